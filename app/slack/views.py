"""The declare modal: built from a template, read back into a Declare command."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from app.incidents.errors import UsageError
from app.incidents.models import Incident, Role, Severity, Status
from app.incidents.service import StatusUpdate
from app.slack import parsing, payloads
from app.slack.flows import IncidentFlows

DECLARE_CALLBACK = "declare_incident"
UPDATE_CALLBACK = "post_status_update"


def declare_modal(flows: IncidentFlows, *, channel_id: str | None) -> dict[str, Any]:
    view = flows.messages.view("views/declare.yml.j2", plan=flows.policy, severities=list(Severity))
    view["callback_id"] = DECLARE_CALLBACK
    view["private_metadata"] = channel_id or ""
    return view


def read_declare_modal(state: dict[str, Any], kinds: Collection[str] = ()) -> parsing.Declare:
    """The modal's answers as a Declare command; problems are keyed by the block they belong to."""
    answers = payloads.form_answers(state)
    title = " ".join(payloads.typed(answers, "title").split())
    severity = payloads.chosen(answers, "severity")
    kind = payloads.chosen(answers, "kind")
    impact = payloads.typed(answers, "impact")
    commander = payloads.text(answers.get("commander", {}).get("selected_user")) or None
    private = bool(answers.get("private", {}).get("selected_options"))
    problems: dict[str, str] = {}
    if not title:
        problems["title"] = "missing_title"
    elif len(title) > parsing.MAX_TITLE:
        problems["title"] = "title_too_long"
    if kind is not None and kind not in kinds:
        problems["kind"] = "bad_kind"
    if severity not in Severity.__members__ and not (severity is None and kind):
        problems["severity"] = "bad_severity"
    if problems:
        raise UsageError(subcommand="declare", problems=problems)
    roles = {Role.IC: commander} if commander else {}
    return parsing.Declare(severity=Severity(severity) if severity else None, title=title, impact=impact,
                           roles=roles, kind=kind, private=private)


def update_modal(flows: IncidentFlows, incident: Incident, *, channel_id: str) -> dict[str, Any]:
    view = flows.messages.view("views/update.yml.j2", incident=incident)
    view["callback_id"] = UPDATE_CALLBACK
    view["private_metadata"] = channel_id
    return view


def read_update_modal(state: dict[str, Any]) -> parsing.Update:
    answers = payloads.form_answers(state)
    status = payloads.chosen(answers, "status") or ""
    findings = payloads.typed(answers, "findings")
    problems: dict[str, str] = {}
    if status not in ("investigating", "identified", "monitoring"):
        problems["status"] = "bad_status"
    if not findings:
        problems["findings"] = "missing_text"
    if problems:
        raise UsageError(subcommand="update", problems=problems)
    action = payloads.typed(answers, "action") or None
    eta = payloads.typed(answers, "eta") or None
    return parsing.Update(StatusUpdate(Status(status), findings, action, eta))
