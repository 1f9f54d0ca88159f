"""The declare modal: built from a template, read back into a Declare command."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from app.incidents.errors import UsageError
from app.incidents.models import Incident, Role, Severity, Status
from app.incidents.service import StatusUpdate
from app.slack import parsing, payloads
from app.slack.flows import IncidentFlows
from app.slack.text import clean

DECLARE_CALLBACK = "declare_incident"
UPDATE_CALLBACK = "post_status_update"


def form_values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A submitted form's element states by block (payloads.form_answers: never a crash on a shape our forms
    do not send), typed text cleaned as it arrives: newlines and tabs are kept only in the inputs the form
    made multi-line."""
    blocks = view.get("blocks") if isinstance(view.get("blocks"), list) else []
    multiline = {block.get("block_id") for block in blocks
                 if isinstance(block, dict) and isinstance(block.get("element"), dict)
                 and block["element"].get("multiline")}
    values = {}
    for block, element in payloads.form_answers(view.get("state")).items():
        element = dict(element)
        if isinstance(element.get("value"), str):
            element["value"] = clean(element["value"], multiline=block in multiline)
        values[block] = element
    return values


def declare_modal(flows: IncidentFlows, *, channel_id: str | None) -> dict[str, Any]:
    view = flows.messages.view("views/declare.yml.j2", plan=flows.policy, severities=list(Severity))
    view["callback_id"] = DECLARE_CALLBACK
    view["private_metadata"] = channel_id or ""
    return view


def read_declare_modal(values: dict[str, dict[str, Any]], kinds: Collection[str] = ()) -> parsing.Declare:
    """The modal's answers (see form_values) as a Declare command; problems are keyed by their block."""
    title = " ".join(payloads.typed(values, "title").split())
    severity = payloads.chosen(values, "severity")
    kind = payloads.chosen(values, "kind")
    impact = payloads.typed(values, "impact")
    commander = payloads.text(values.get("commander", {}).get("selected_user")) or None
    private = bool(values.get("private", {}).get("selected_options"))
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


def read_update_modal(values: dict[str, dict[str, Any]]) -> parsing.Update:
    """The form's answers (see form_values) as an Update command."""
    status = payloads.chosen(values, "status") or ""
    findings = payloads.typed(values, "findings")
    problems: dict[str, str] = {}
    if status not in ("investigating", "identified", "monitoring"):
        problems["status"] = "bad_status"
    if not findings:
        problems["findings"] = "missing_text"
    if problems:
        raise UsageError(subcommand="update", problems=problems)
    action = payloads.typed(values, "action") or None
    eta = payloads.typed(values, "eta") or None
    return parsing.Update(StatusUpdate(Status(status), findings, action, eta))


SEVERITY_CALLBACK = "change_severity"
ROLE_CALLBACK = "take_role"
RESOLVE_CALLBACK = "resolve_incident"


def severity_modal(flows: IncidentFlows, incident: Incident, *, channel_id: str) -> dict[str, Any]:
    view = flows.messages.view("views/severity.yml.j2", incident=incident, plan=flows.policy,
                               severities=list(Severity))
    view["callback_id"] = SEVERITY_CALLBACK
    view["private_metadata"] = channel_id
    return view


def read_severity_modal(values: dict[str, dict[str, Any]]) -> parsing.ChangeSeverity:
    severity = (values["severity"].get("selected_option") or {}).get("value")
    if severity not in Severity.__members__:
        raise UsageError(subcommand="severity", problems={"severity": "bad_severity"})
    return parsing.ChangeSeverity(Severity(severity))


def role_modal(flows: IncidentFlows, incident: Incident, *, channel_id: str) -> dict[str, Any]:
    view = flows.messages.view("views/take_role.yml.j2", incident=incident, roles=flows.policy.roles)
    view["callback_id"] = ROLE_CALLBACK
    view["private_metadata"] = channel_id
    return view


def read_role_modal(values: dict[str, dict[str, Any]], user_id: str) -> parsing.AssignRole:
    """The role the person chose, for themselves."""
    role = (values["role"].get("selected_option") or {}).get("value")
    if role not in {r.value for r in Role}:
        raise UsageError(subcommand="role", problems={"role": "bad_role"})
    return parsing.AssignRole(Role(role), user_id)


def resolve_modal(flows: IncidentFlows, incident: Incident, *, channel_id: str) -> dict[str, Any]:
    view = flows.messages.view("views/resolve.yml.j2", incident=incident)
    view["callback_id"] = RESOLVE_CALLBACK
    view["private_metadata"] = channel_id
    return view


def read_resolve_modal(values: dict[str, dict[str, Any]]) -> parsing.Resolve:
    root_cause = (values["root_cause"].get("value") or "").strip()
    resolution = (values["resolution"].get("value") or "").strip()
    problems = {}
    if not root_cause:
        problems["root_cause"] = "missing_root_cause"
    if not resolution:
        problems["resolution"] = "missing_resolution"
    if problems:
        raise UsageError(subcommand="resolve", problems=problems)
    return parsing.Resolve(root_cause, resolution)
