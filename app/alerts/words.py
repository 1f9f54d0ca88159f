"""The words of an alert's line on an incident's timeline: messages/alert_line.txt.j2, as plain text (the
timeline keeps text; whatever shows it escapes it for where it goes)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.alerts.alert import Alert
from app.template_cache import compiled

TEMPLATE = "alert_line.txt.j2"


class AlertWords:
    def __init__(self, messages_dir: Path) -> None:
        self.env = Environment(loader=FileSystemLoader(messages_dir), autoescape=False, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
                               bytecode_cache=compiled("alerts-plain"))
        # Checked at start-up, and never looked for on disk again (as app/slack/toolkit/messages.py does): each
        # alert of a storm is one line.
        self.template = self.env.get_template(TEMPLATE)

    def line(self, alert: Alert, *, how: str, rule: str | None = None, group: str | None = None) -> str:
        """`how`: declared (it declared the incident), added (its fingerprint's incident), grouped (it joined
        its group's incident), storm (it joined the storm's incident), storm_declared (it started the storm)."""
        text = self.template.render(alert=alert, how=how, rule=rule, group_key=group)
        return " ".join(text.split())
