"""The plan's operational rules, read from the playbooks directory (data, not code)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from app.incidents.models import Role, Severity

if TYPE_CHECKING:
    from app.incidents.playbooks import Playbook

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class PolicyError(Exception):
    """A playbook file is missing or malformed; the message names the file and the problem."""


def parse_duration(text: object) -> timedelta:
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30s, 15m, 1h or 2d")
    amount, unit = match.groups()
    return timedelta(**{_UNITS[unit]: int(amount)})


@dataclass(frozen=True)
class SeverityPolicy:
    severity: Severity
    name: str
    description: str
    examples: str
    response_time: timedelta
    update_every: timedelta
    escalate_after: timedelta | None
    escalate_to: str | None
    page: tuple[Role, ...]


@dataclass(frozen=True)
class RoleDescription:
    role: Role
    name: str
    duties: tuple[str, ...]
    contact: str


@dataclass(frozen=True)
class Policy:
    severities: dict[Severity, SeverityPolicy]
    roles: dict[Role, RoleDescription]
    playbooks: dict[str, Playbook]

    def for_severity(self, severity: Severity) -> SeverityPolicy:
        return self.severities[severity]

    def playbook(self, kind: str | None) -> Playbook | None:
        return self.playbooks.get(kind) if kind else None

    @classmethod
    def load(cls, directory: Path) -> Policy:
        from app.incidents.playbooks import load_playbooks  # playbooks parse durations with this module

        return cls(
            severities=_load_severities(directory / "severities.yml"),
            roles=_load_roles(directory / "roles.yml"),
            playbooks=load_playbooks(directory),
        )


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: file is missing") from None
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    return data


def _load_severities(path: Path) -> dict[Severity, SeverityPolicy]:
    data = _read(path)
    missing = [s.value for s in Severity if s.value not in data]
    unknown = [k for k in data if k not in Severity.__members__]
    if missing or unknown:
        raise PolicyError(f"{path}: severities must be exactly P0-P3 (missing {missing}, unknown {unknown})")
    policies = {}
    for severity in Severity:
        entry = data[severity.value]
        where = f"{path}: {severity.value}"
        try:
            escalate_after = entry.get("escalate_after")
            policies[severity] = SeverityPolicy(
                severity=severity,
                name=str(entry["name"]),
                description=str(entry["description"]),
                examples=str(entry.get("examples", "")),
                response_time=parse_duration(entry["response_time"]),
                update_every=parse_duration(entry["update_every"]),
                escalate_after=None if escalate_after is None else parse_duration(escalate_after),
                escalate_to=entry.get("escalate_to"),
                page=tuple(Role(r) for r in entry.get("page") or ()),
            )
        except KeyError as error:
            raise PolicyError(f"{where}: missing {error.args[0]!r}") from None
        except (ValueError, TypeError, AttributeError) as error:
            raise PolicyError(f"{where}: {error}") from None
        if policies[severity].update_every <= timedelta(0):
            raise PolicyError(f"{where}: update_every must be longer than zero")
    return policies


def _load_roles(path: Path) -> dict[Role, RoleDescription]:
    data = _read(path)
    roles = {}
    for role in Role:
        entry = data.get(role.value)
        if not isinstance(entry, dict):
            raise PolicyError(f"{path}: role {role.value!r} is missing")
        try:
            roles[role] = RoleDescription(
                role=role,
                name=str(entry["name"]),
                duties=tuple(str(d) for d in entry["duties"]),
                contact=str(entry.get("contact", "")),
            )
        except KeyError as error:
            raise PolicyError(f"{path}: {role.value}: missing {error.args[0]!r}") from None
    return roles
