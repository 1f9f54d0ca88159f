"""The incident's forms, opened from the kickoff's buttons: post an update, change severity, take a role,
resolve. Each built from a template and read back into the command typing it would give."""

from __future__ import annotations

from typing import Any

from app.incidents.errors import UsageError
from app.incidents.models import Incident, Role, Severity, Status
from app.incidents.service import StatusUpdate
from app.slack.toolkit import command_line, interactions
from app.slack.toolkit.deps import Deps

UPDATE_CALLBACK = "post_status_update"


def update_modal(deps: Deps, incident: Incident, *, channel_id: str) -> dict[str, Any]:
    view = deps.messages.view("views/update.yml.j2", incident=incident)
    view["callback_id"] = UPDATE_CALLBACK
    view["private_metadata"] = channel_id
    return view


def read_update_modal(values: dict[str, dict[str, Any]]) -> command_line.Update:
    """The form's answers (see toolkit.forms.form_values) as an Update command."""
    status = interactions.chosen(values, "status") or ""
    findings = interactions.typed(values, "findings")
    problems: dict[str, str] = {}
    if status not in ("investigating", "identified", "monitoring"):
        problems["status"] = "bad_status"
    if not findings:
        problems["findings"] = "missing_text"
    if problems:
        raise UsageError(subcommand="update", problems=problems)
    action = interactions.typed(values, "action") or None
    eta = interactions.typed(values, "eta") or None
    return command_line.Update(StatusUpdate(Status(status), findings, action, eta))


SEVERITY_CALLBACK = "change_severity"
ROLE_CALLBACK = "take_role"
RESOLVE_CALLBACK = "resolve_incident"


def severity_modal(deps: Deps, incident: Incident, *, channel_id: str) -> dict[str, Any]:
    view = deps.messages.view("views/severity.yml.j2", incident=incident, plan=deps.policy,
                               severities=list(Severity))
    view["callback_id"] = SEVERITY_CALLBACK
    view["private_metadata"] = channel_id
    return view


def read_severity_modal(values: dict[str, dict[str, Any]]) -> command_line.ChangeSeverity:
    severity = (values["severity"].get("selected_option") or {}).get("value")
    if not isinstance(severity, str) or severity not in Severity.__members__:
        raise UsageError(subcommand="severity", problems={"severity": "bad_severity"})
    return command_line.ChangeSeverity(Severity(severity))


def role_modal(deps: Deps, incident: Incident, *, channel_id: str) -> dict[str, Any]:
    view = deps.messages.view("views/take_role.yml.j2", incident=incident, roles=deps.policy.roles)
    view["callback_id"] = ROLE_CALLBACK
    view["private_metadata"] = channel_id
    return view


def read_role_modal(values: dict[str, dict[str, Any]], user_id: str) -> command_line.AssignRole:
    """The role the person chose, for themselves."""
    role = (values["role"].get("selected_option") or {}).get("value")
    if role not in {r.value for r in Role}:
        raise UsageError(subcommand="role", problems={"role": "bad_role"})
    return command_line.AssignRole(Role(role), user_id)


def resolve_modal(deps: Deps, incident: Incident, *, channel_id: str) -> dict[str, Any]:
    view = deps.messages.view("views/resolve.yml.j2", incident=incident)
    view["callback_id"] = RESOLVE_CALLBACK
    view["private_metadata"] = channel_id
    return view


def read_resolve_modal(values: dict[str, dict[str, Any]]) -> command_line.Resolve:
    root_cause = (values["root_cause"].get("value") or "").strip()
    resolution = (values["resolution"].get("value") or "").strip()
    problems = {}
    if not root_cause:
        problems["root_cause"] = "missing_root_cause"
    if not resolution:
        problems["resolution"] = "missing_resolution"
    if problems:
        raise UsageError(subcommand="resolve", problems=problems)
    return command_line.Resolve(root_cause, resolution)
