"""The declare form (from `/incident declare` with nothing after it, or the Home tab's Declare button): built from
a template, read back into a Declare command."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from app.incidents.errors import UsageError
from app.incidents.models import Role, Severity
from app.slack.toolkit import command_line, interactions
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.forms import form_metadata

DECLARE_CALLBACK = "declare_incident"


def declare_modal(deps: Deps, *, channel_id: str | None) -> dict[str, Any]:
    view = deps.messages.view("views/declare.yml.j2", plan=deps.policy, severities=list(Severity))
    view["callback_id"] = DECLARE_CALLBACK
    # A modal has no response_url: whoever submits it hears back by direct message, wherever it was opened.
    view["private_metadata"] = form_metadata(channel=channel_id, by_dm=True)
    return view


def read_declare_modal(values: dict[str, dict[str, Any]], kinds: Collection[str] = (),
                       services: Collection[str] = ()) -> command_line.Declare:
    """The modal's answers (see toolkit.forms.form_values) as a Declare command; problems are keyed by their block."""
    title = " ".join(interactions.typed(values, "title").split())
    severity = interactions.chosen(values, "severity")
    kind = interactions.chosen(values, "kind")
    impact = interactions.typed(values, "impact")
    commander = interactions.text(values.get("commander", {}).get("selected_user")) or None
    private = bool(values.get("private", {}).get("selected_options"))
    named = [interactions.text(option.get("value")) for option in values.get("services", {}).get("selected_options")
             or [] if isinstance(option, dict)]
    problems: dict[str, str] = {}
    if not title:
        problems["title"] = "missing_title"
    elif len(title) > command_line.MAX_TITLE:
        problems["title"] = "title_too_long"
    if kind is not None and kind not in kinds:
        problems["kind"] = "bad_kind"
    if any(key not in services for key in named):
        problems["services"] = "bad_service"
    if severity not in Severity.__members__ and not (severity is None and kind):
        problems["severity"] = "bad_severity"
    if problems:
        raise UsageError(subcommand="declare", problems=problems)
    roles = {Role.IC: commander} if commander else {}
    return command_line.Declare(severity=Severity(severity) if severity else None, title=title, impact=impact,
                                roles=roles, kind=kind, private=private, services=tuple(dict.fromkeys(named)))
