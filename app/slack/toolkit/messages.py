"""Every word people read comes from a template in messages/; this turns one into Block Kit.

A template renders Slack mrkdwn. A line holding only `---` starts a new section block.
A template may export `buttons` ({% set buttons = [...] %}): each a dict with `action`,
`text`, `value` and optionally `style`; they become one actions block.
Values printed with {{ }} are escaped for Slack (so a title cannot ping @channel) unless
a filter such as `user`, `channel` or `date` made them Slack markup on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from app.clock import utc
from app.policy_files import WrittenDuration, yaml_text
from app.reviews.markdown import inert, web_url
from app.slack.toolkit.text import fit, readable
from app.template_cache import compiled

T = TypeVar("T")
SECTION_BREAK = "---"
MAX_SECTION = 3000  # a section block's text, in UTF-16 code units like every Slack limit


class TemplateProblem(Exception):
    """A template is broken; the message names the file."""


class SlackText(str):
    """Text that is already Slack markup and must not be escaped again."""


def escape(text: str) -> str:
    """People's text made safe to show: as typed (app/slack/toolkit/text.py's `readable`), then escaped for Slack."""
    return readable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finalize(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, SlackText):
        return value
    if isinstance(value, str):
        return escape(value)
    return value


def user(user_id: str | None, nobody: str = "unassigned") -> str:
    return SlackText(f"<@{user_id}>") if user_id else nobody


def person(who: str | None, nobody: str = "nobody") -> str:
    """Someone named in playbooks: a Slack user ID becomes a mention, an e-mail stays as written."""
    if not who:
        return nobody
    return SlackText(f"<@{who}>") if who[:1] in "UW" and who.isalnum() else who


def usergroup(group: str) -> str:
    """A user group from playbooks: its ID (S0123ABCD) becomes a mention, a handle is shown as @handle."""
    if group[:1] == "S" and group.isalnum() and group.isupper():
        return SlackText(f"<!subteam^{group}>")
    return "@" + group.lstrip("@")


def channel(channel_id: str | None, fallback: str = "(channel being set up)") -> str:
    return SlackText(f"<#{channel_id}>") if channel_id else fallback


def link(url: str, text: str) -> str:
    """A link people click, showing `text` (a tracker's issue key, say)."""
    return SlackText(f"<{escape(url).replace('|', '%7C')}|{escape(text)}>")


def date(moment: datetime, style: str = "{date_short_pretty} {time}") -> str:
    """Slack shows each reader the time in their own zone; the fallback is UTC."""
    moment = utc(moment)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return SlackText(f"<!date^{int(moment.timestamp())}^{style}|{fallback}>")


def utc_time(moment: datetime, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    return utc(moment).strftime(fmt)


def duration(span: timedelta) -> str:
    """Spoken length of time: '45 minutes', '2 hours 5 minutes', '3 days 1 hour'; one a policy file gave,
    as the file wrote it ('48h': '48 hours')."""
    if isinstance(span, WrittenDuration):
        return span.spoken
    minutes = max(0, int(span.total_seconds() // 60))
    if span.total_seconds() < 60:
        seconds = max(0, int(span.total_seconds()))
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
    return " ".join(words[:2])


@dataclass
class Message:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


class Messages:
    """The templates in one directory, checked once at start-up."""

    def __init__(self, directory: Path, rules: Mapping[str, Any] | None = None) -> None:
        """`rules`: the policy every template may quote by name (`followup`: playbooks/followup.yml), so the
        words say what the policy files say."""
        self.directory = directory
        self.rules = dict(rules or {})
        self.env = Environment(
            loader=FileSystemLoader(directory),
            undefined=StrictUndefined,
            finalize=_finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
            auto_reload=False,  # checked once at start-up, and never looked for on disk again
            bytecode_cache=compiled("slack"),
        )
        self.env.filters.update(user=user, person=person, usergroup=usergroup,
                                channel=channel, date=date, link=link, utc=utc_time,
                                duration=duration, fit=fit,
                                # People's text inside a YAML view's mrkdwn (|tojson alone leaves it as typed).
                                escaped=lambda v: SlackText(escape(str(v))),
                                # People's text in a plain_text field (a button, an option): as they typed it.
                                plain=lambda v: SlackText(readable(str(v))),
                                tojson=lambda v: SlackText(json.dumps(v)),
                                # People's text in a Markdown document (the review): shown, never markup.
                                markdown=lambda v: SlackText(inert(escape(str(v)))),
                                markdown_url=lambda v: SlackText(web_url(str(v or ""))),
                                # Macro output was escaped inside the macro already.
                                safe=SlackText)
        self.env.globals.update(self.rules)

    def names(self) -> list[str]:
        return sorted(self.env.list_templates(filter_func=lambda n: n.endswith(".j2")))

    def text(self, name: str, **context: Any) -> str:
        """A template rendered as plain text (topics, ephemeral one-liners)."""
        return self.env.get_template(name).render(**context).strip()

    def render(self, name: str, **context: Any) -> Message:
        """A template rendered as a Block Kit message with a plain-text fallback."""
        module = self.env.get_template(name).make_module(context)
        sections = [s.strip() for s in str(module).split(f"\n{SECTION_BREAK}\n")]
        sections = [s for s in sections if s]
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": fit(s, MAX_SECTION)}} for s in sections
        ]
        buttons = getattr(module, "buttons", None)
        if buttons:
            blocks.append({"type": "actions", "elements": [_button(b) for b in buttons]})
        return Message(text=fit("\n".join(sections), MAX_SECTION), blocks=blocks)

    def view(self, name: str, **context: Any) -> dict[str, Any]:
        """A modal view: the template renders YAML (use |tojson for people's text)."""
        return yaml_text(self.env.get_template(name).render(**context))

    def blocks(self, name: str, **context: Any) -> Message:
        """A message laid out in YAML (`text:` fallback and `blocks:`), for layouts sections can't express."""
        data = yaml_text(self.env.get_template(name).render(**context))
        return Message(text=fit(str(data["text"]), MAX_SECTION), blocks=list(data["blocks"]))

    def check(self, context: dict[str, Any]) -> None:
        """Render every template with a full sample context, so a broken one stops start-up."""
        for name in self.names():
            try:
                if name.startswith("views/"):
                    self.view(name, **context)
                elif name.startswith("blocks/"):
                    self.blocks(name, **context)
                else:
                    self.render(name, **context)
            except (TemplateError, yaml.YAMLError, TypeError, AttributeError, KeyError) as error:
                raise TemplateProblem(f"messages/{name}: {type(error).__name__}: {error}") from None

    def check_once(self, made_from: T, sample: Callable[[T], dict[str, Any]]) -> None:
        """check(sample(made_from)), unless templates with these very sources and rules passed that check in this
        process with a context made from an equal `made_from`: its outcome would be the same. A process that
        starts the bot many times (the tests, the benchmarks) renders them once per policy; one start, as
        `python -m app`, checks as before."""
        checked = _Checked(self.directory, self.sources(), self.rules, made_from)
        if checked in _PASSED:
            return
        self.check(sample(made_from))
        _PASSED.append(checked)
        del _PASSED[:-_REMEMBERED]

    def sources(self) -> dict[str, str]:
        """Every template's text, by name, as the checks read it."""
        assert isinstance(self.env.loader, FileSystemLoader)
        return {name: self.env.loader.get_source(self.env, name)[0] for name in self.names()}


@dataclass(frozen=True)
class _Checked:
    """A check that passed: the templates it rendered (their directory and text), the rules they could quote,
    and what the sample context was made from."""

    directory: Path
    sources: dict[str, str]
    rules: dict[str, Any]
    made_from: object


_REMEMBERED = 16  # checks that passed, the latest kept: a test process starts bots with a few policies in turn
_PASSED: list[_Checked] = []


def _button(spec: dict[str, Any]) -> dict[str, Any]:
    button = {
        "type": "button",
        "action_id": spec["action"],
        "text": {"type": "plain_text", "text": str(spec["text"]), "emoji": True},
        "value": str(spec.get("value", "")),
    }
    if spec.get("style"):
        button["style"] = spec["style"]
    return button
