"""The plan's incident types, one data file each in playbooks/types/: symptoms, what to do, who is
needed, how to communicate, and any legal deadlines. A team adds or edits one without touching code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from app.incidents.models import Role, Severity
from app.incidents.policy import PolicyError, parse_duration

KEY = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


@dataclass(frozen=True)
class ComplianceClock:
    """A legal deadline counted from the declaration (the plan's Appendix D)."""

    key: str
    name: str
    within: timedelta
    remind_before: tuple[timedelta, ...]


@dataclass(frozen=True)
class Playbook:
    key: str
    name: str
    default_severity: Severity
    private: bool
    roles: tuple[Role, ...]
    symptoms: tuple[str, ...]
    immediate_actions: tuple[str, ...]
    resolution_steps: tuple[str, ...]
    communication: tuple[str, ...]
    compliance: tuple[ComplianceClock, ...]

    def checklist(self) -> list[tuple[str, str]]:
        """(section, item) pairs: the immediate actions, then the resolution steps."""
        return ([("immediate", item) for item in self.immediate_actions]
                + [("resolution", item) for item in self.resolution_steps])


def load_playbooks(directory: Path) -> dict[str, Playbook]:
    """Every playbooks/types/*.yml, keyed by file name (outage.yml → outage)."""
    playbooks = {}
    for path in sorted((directory / "types").glob("*.yml")):
        playbooks[path.stem] = _load(path)
    return playbooks


def _strings(entry: dict[str, Any], name: str, path: Path, *, required: bool = True) -> tuple[str, ...]:
    value = entry.get(name)
    if value is None and not required:
        return ()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise PolicyError(f"{path}: '{name}' must be a non-empty list of texts")
    return tuple(v.strip() for v in value)


def _load(path: Path) -> Playbook:
    if not KEY.match(path.stem):
        raise PolicyError(f"{path}: the file name is the type people type; use lowercase letters, digits and -")
    try:
        entry = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(entry, dict):
        raise PolicyError(f"{path}: expected a mapping at the top level")
    try:
        name = str(entry["name"])
        severity = Severity(str(entry["default_severity"]))
        roles = tuple(Role(r) for r in entry.get("roles") or [Role.IC.value])
        compliance = tuple(
            ComplianceClock(key=str(c["key"]), name=str(c["name"]), within=parse_duration(c["within"]),
                            remind_before=tuple(parse_duration(d) for d in c.get("remind_before") or ()))
            for c in entry.get("compliance") or () if c.get("applies", True)
        )
    except KeyError as error:
        raise PolicyError(f"{path}: missing {error.args[0]!r}") from None
    except (ValueError, TypeError, AttributeError) as error:
        raise PolicyError(f"{path}: {error}") from None
    for clock in compliance:
        if any(before >= clock.within for before in clock.remind_before):
            raise PolicyError(f"{path}: {clock.key}: remind_before must be shorter than within")
    return Playbook(
        key=path.stem, name=name, default_severity=severity, private=bool(entry.get("private", False)),
        roles=roles, symptoms=_strings(entry, "symptoms", path),
        immediate_actions=_strings(entry, "immediate_actions", path),
        resolution_steps=_strings(entry, "resolution_steps", path),
        communication=_strings(entry, "communication", path, required=False), compliance=compliance,
    )
