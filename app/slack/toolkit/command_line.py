"""Reading what people type after /incident. Pure functions; errors name the usage to show."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import partial

from app.catalog.services import split_keys
from app.comms.models import Audience
from app.incidents.errors import UsageError
from app.incidents.models import Role, Severity, Status
from app.incidents.service import StatusUpdate
from app.slack.toolkit.mentions import MENTION
from app.slack.toolkit.review_commands import (
    ActionItemCommand,
    AddActionItem,
    CompleteActionItem,
    EditActionItem,
    ListActionItems,
    MeetingCommand,
    OpenMeetingForm,
    OpenReview,
    ScheduleMeeting,
    StartActionItem,
    SubmitReview,
    parse_action,
    parse_meeting,
)
from app.slack.toolkit.text import clean, split_fields

MAX_TITLE = 200
ROLE_ARGUMENT = re.compile(r"\b(ic|tech|comms|security):\s*(<@[UW][A-Z0-9]+(?:\|[^>]*)?>)", re.IGNORECASE)


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class OpenDeclareModal:
    pass


MAX_BUTTON_VALUE = 2000


@dataclass(frozen=True)
class Declare:
    severity: Severity | None  # None: the playbook's default
    title: str
    impact: str = ""
    roles: dict[Role, str] = field(default_factory=dict)
    kind: str | None = None
    private: bool = False
    anyway: bool = False  # declared although an open incident looks the same (the declarer chose to)
    services: tuple[str, ...] = ()  # the catalog's keys it affects (playbooks/services.yml)

    def as_choice(self) -> str:
        """The declaration, kept in a button's value until the declarer chooses (Slack allows 2000 chars)."""
        return json.dumps({"severity": self.severity.value if self.severity else None, "title": self.title,
                           "impact": self.impact[:1000], "roles": {r.value: u for r, u in self.roles.items()},
                           "kind": self.kind, "private": self.private, "services": list(self.services)},
                          ensure_ascii=False)

    @classmethod
    def chosen(cls, value: str) -> Declare:
        """The declaration a "declare anyway" button carried."""
        data = json.loads(value)
        return cls(severity=Severity(data["severity"]) if data["severity"] else None, title=data["title"],
                   impact=data["impact"], roles={Role(r): u for r, u in data["roles"].items()}, kind=data["kind"],
                   private=data["private"], services=tuple(data.get("services") or ()), anyway=True)


@dataclass(frozen=True)
class Update:
    update: StatusUpdate


@dataclass(frozen=True)
class ShowStatus:
    pass


@dataclass(frozen=True)
class ListOpen:
    service: str | None = None  # only the incidents naming this service (`list service:api`)


@dataclass(frozen=True)
class ChangeServices:
    """`/incident services add|remove <keys>`: the catalog's services this incident affects."""

    add: bool
    keys: tuple[str, ...]


@dataclass(frozen=True)
class OnCall:
    pass


@dataclass(frozen=True)
class ShowChecklist:
    pass


@dataclass(frozen=True)
class Notified:
    deadline: str


@dataclass(frozen=True)
class ChangeSeverity:
    severity: Severity


@dataclass(frozen=True)
class AssignRole:
    role: Role
    user_id: str


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Resolve:
    root_cause: str
    resolution: str


@dataclass(frozen=True)
class ShowStats:
    window: str | None  # as typed (`30d`); None: the default window of playbooks/insights.yml


@dataclass(frozen=True)
class Reopen:
    pass


@dataclass(frozen=True)
class DraftComms:
    audience: Audience


@dataclass(frozen=True)
class Targeted:
    """A command for the incident with this number, typed anywhere (before its channel exists, say)."""

    incident_id: int
    command: Command


def for_incident(incident_id: int, typed: str) -> str | None:
    """A command typed outside any incident channel, kept in a button's value to be run for this incident
    once chosen; None when it does not fit (Slack allows 2000 characters)."""
    value = json.dumps({"incident": incident_id, "text": typed}, ensure_ascii=False)
    return value if len(value) <= MAX_BUTTON_VALUE else None


def chosen_for_incident(value: str, kinds: Collection[str] = (), services: Collection[str] = ()) -> Targeted:
    """The command a picker's button carried, for the incident it names."""
    data = json.loads(value)
    return Targeted(int(data["incident"]), parse_command(str(data["text"]), kinds, services))


Command = (Help | OpenDeclareModal | Declare | Update | ShowStatus | ListOpen | ChangeServices | OnCall
           | ChangeSeverity | AssignRole | Note | Resolve | Reopen | ShowChecklist | Notified | DraftComms | OpenReview
           | ActionItemCommand | MeetingCommand | ShowStats | Targeted)
SUBCOMMANDS = ("declare", "update", "status", "list", "services", "severity", "role", "note", "resolve", "reopen",
               "oncall", "checklist", "notified", "comms", "review", "meeting", "action", "actions", "stats", "help")


def parse_command(text: str, kinds: Collection[str] = (), services: Collection[str] = ()) -> Command:
    """What someone typed after /incident; `kinds` are the playbook types declare accepts, `services` the
    catalog's service keys (playbooks/services.yml)."""
    words = clean(text).strip().split(maxsplit=1)
    if not words:
        return Help()
    name, rest = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    if name == "declare":
        return _declare(rest, kinds, services)
    parser = partial(_services, services=services) if name == "services" else _PARSERS.get(name)
    if parser is None:
        raise UsageError(subcommand=None, problem="unknown_subcommand", given=words[0])
    first, _, after = rest.partition(" ")
    named = NAMED_INCIDENT.get(name)
    if named is not None and named.fullmatch(first):
        return Targeted(int(first.lstrip("#")), parser(after.strip()))
    return parser(rest)


def parse_severity(text: str, subcommand: str) -> Severity:
    value = text.strip().upper()
    if value not in Severity.__members__:
        raise UsageError(subcommand=subcommand, problem="bad_severity", given=text.strip())
    return Severity(value)


def parse_user(text: str, subcommand: str) -> str:
    match = MENTION.fullmatch(text.strip())
    if not match:
        raise UsageError(subcommand=subcommand, problem="bad_user", given=text.strip())
    return match.group(1)


def _declare(rest: str, kinds: Collection[str] = (), services: Collection[str] = ()) -> Command:
    """declare [private] [<type>] [<P0-P3>] [<service>[,<service>...]] <title> [| impact] [role:@someone ...]"""
    if not rest:
        return OpenDeclareModal()
    words = rest.split(" ")
    kind, severity, private = None, None, False
    while words:
        word = words[0].strip().lower()
        if word == "private" and not private:
            private = True
        elif word in kinds and kind is None:
            kind = word
        elif word.upper() in Severity.__members__ and severity is None:
            severity = Severity(word.upper())
        else:
            break
        words.pop(0)
    if severity is None and kind is None:
        raise UsageError(subcommand="declare", problem="bad_severity", given=words[0] if words else "",
                         kinds=sorted(kinds))
    named: list[str] = []
    # After the severity or type, words that are all service keys (`api`, `api,postgres`) name the services it
    # affects; a word that is the whole title stays the title. Each key is looked up in the catalog's own keys:
    # no copy of the whole catalog per word (this runs before the acknowledgement).
    while len(words) > 1 and words[0]:
        keys = split_keys(words[0])
        if not all(key in services for key in keys):
            break
        named.extend(k for k in keys if k not in named)
        words.pop(0)
    remainder = " ".join(words)
    roles = {Role(r.lower()): parse_user(m, "declare") for r, m in ROLE_ARGUMENT.findall(remainder)}
    remainder = ROLE_ARGUMENT.sub("", remainder)
    title, impact = [*split_fields(remainder, 1), ""][:2]
    title = " ".join(title.split())
    if not title:
        raise UsageError(subcommand="declare", problem="missing_title")
    if len(title) > MAX_TITLE:
        raise UsageError(subcommand="declare", problem="title_too_long", limit=MAX_TITLE)
    return Declare(severity=severity, title=title, impact=impact, roles=roles, kind=kind, private=private,
                   services=tuple(named))


def _update(rest: str) -> Command:
    first, _, text = rest.partition(" ")
    statuses = [s.value for s in Status if s is not Status.RESOLVED]
    if first.lower() not in statuses:
        raise UsageError(subcommand="update", problem="bad_status", given=first)
    findings, action, eta = [*split_fields(text, 2), "", ""][:3]
    if not findings:
        raise UsageError(subcommand="update", problem="missing_text")
    return Update(StatusUpdate(Status(first.lower()), findings, action or None, eta or None))


def _services(rest: str, services: Collection[str]) -> Command:
    first, _, keys_typed = rest.partition(" ")
    if first.lower() not in ("add", "remove"):
        raise UsageError(subcommand="services", problem="bad_services_action", given=first)
    keys = split_keys(keys_typed)
    if not keys:
        raise UsageError(subcommand="services", problem="missing_services", services=sorted(services))
    unknown = [key for key in keys if key not in services]
    if unknown and first.lower() == "add":  # a service no longer in the catalog can still be removed
        raise UsageError(subcommand="services", problem="bad_service", given=unknown[0], services=sorted(services))
    return ChangeServices(add=first.lower() == "add", keys=tuple(keys))


def _list(rest: str) -> Command:
    if not rest:
        return ListOpen()
    match = re.fullmatch(r"service:\s*([a-z][a-z0-9_-]{0,39})", rest.strip().lower())
    if not match:
        raise UsageError(subcommand="list", problem="unexpected_arguments", given=rest)
    return ListOpen(service=match.group(1))  # any key: a service removed from the catalog still finds its incidents


def _no_arguments(command: Command, name: str) -> Callable[[str], Command]:
    def parse(rest: str) -> Command:
        if rest:
            raise UsageError(subcommand=name, problem="unexpected_arguments", given=rest)
        return command

    return parse


def _severity(rest: str) -> Command:
    return ChangeSeverity(parse_severity(rest, "severity"))


def _role(rest: str) -> Command:
    first, _, who = rest.partition(" ")
    if first.lower() not in Role.__members__.values():
        raise UsageError(subcommand="role", problem="bad_role", given=first)
    return AssignRole(Role(first.lower()), parse_user(who, "role"))


def _note(rest: str) -> Command:
    if not rest:
        raise UsageError(subcommand="note", problem="missing_text")
    return Note(rest)


def _notified(rest: str) -> Command:
    if not re.fullmatch(r"[a-z][a-z0-9-]*", rest.strip().lower()):
        raise UsageError(subcommand="notified", problem="missing_deadline", given=rest)
    return Notified(rest.strip().lower())


def _resolve(rest: str) -> Command:
    root_cause, resolution = [*split_fields(rest, 1), ""][:2]
    if not root_cause or not resolution:
        raise UsageError(subcommand="resolve", problem="missing_parts")
    return Resolve(root_cause, resolution)


_AUDIENCES = {"internal": Audience.INTERNAL, "email": Audience.EMAIL, "e-mail": Audience.EMAIL,
              "statuspage": Audience.STATUSPAGE, "status-page": Audience.STATUSPAGE}


def _stats(rest: str) -> Command:
    # Which windows there are is policy (playbooks/insights.yml): the flow checks the name.
    return ShowStats(rest.strip().lower() or None)


def _comms(rest: str) -> Command:
    audience = _AUDIENCES.get(rest.strip().lower())
    if audience is None:
        raise UsageError(subcommand="comms", problem="bad_audience", given=rest.strip())
    return DraftComms(audience)


# `/incident update 12 identified ...` names the incident. Where the text after it is free (a note, a root
# cause, an action item), only `#12` does, so a note that starts with a number stays a note.
_NUMBER, _HASH_NUMBER = re.compile(r"#?\d{1,9}"), re.compile(r"#\d{1,9}")
NAMED_INCIDENT = {**{name: _NUMBER for name in ("update", "status", "severity", "role", "checklist", "notified",
                                                "comms", "review", "actions", "reopen", "meeting", "services")},
                  **{name: _HASH_NUMBER for name in ("note", "resolve", "action")}}

_PARSERS = {
    "update": _update,
    "status": _no_arguments(ShowStatus(), "status"),
    "list": _list,
    "oncall": _no_arguments(OnCall(), "oncall"),
    "checklist": _no_arguments(ShowChecklist(), "checklist"),
    "notified": lambda rest: _notified(rest),
    "severity": _severity,
    "role": _role,
    "note": _note,
    "resolve": _resolve,
    "reopen": _no_arguments(Reopen(), "reopen"),
    "comms": _comms,
    "review": _no_arguments(OpenReview(), "review"),
    "meeting": parse_meeting,
    "action": parse_action,
    "actions": _no_arguments(ListActionItems(), "actions"),
    "stats": _stats,
    "help": lambda rest: Help(),
}


def asked_for(command: Command) -> str:
    """The subcommand a command was typed as: what errors/store_unreachable.j2 says was not recorded."""
    if isinstance(command, Targeted):
        return asked_for(command.command)
    return _SUBCOMMAND_OF.get(type(command), "request")


_SUBCOMMAND_OF: dict[type, str] = {
    Declare: "declare", Update: "update", Note: "note", Resolve: "resolve", Reopen: "reopen",
    ChangeSeverity: "severity", AssignRole: "role", ShowStatus: "status",
    ListOpen: "list", ChangeServices: "services", ShowChecklist: "checklist", Notified: "notified",
    DraftComms: "comms", OpenReview: "review", SubmitReview: "review",
    ListActionItems: "actions", AddActionItem: "action",
    EditActionItem: "action", StartActionItem: "action",
    CompleteActionItem: "action", ShowStats: "stats",
    OpenMeetingForm: "meeting", ScheduleMeeting: "meeting",
}
