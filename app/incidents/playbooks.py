"""The plan's incident types, one data file each in playbooks/types/: symptoms, what to do, who is
needed, how to communicate, and any legal deadlines. A team adds or edits one without touching code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from app.incidents.models import Role, Severity
from app.policy_files import PolicyError, PositiveDuration, StrictModel, load, parse_duration

KEY = re.compile(r"^[a-z][a-z0-9-]{1,39}$")


@dataclass(frozen=True)
class ComplianceClock:
    """A legal deadline counted from the declaration (the plan's Appendix D)."""

    key: str
    name: str
    within: timedelta  # zero: immediately, due at the declaration
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


Text = Annotated[str, Field(min_length=1)]
Texts = Annotated[tuple[Text, ...], Field(min_length=1)]


def _within(value: object) -> object:
    """A duration (72h, 60d) or `immediately` (the plan's SOC 2 auditor): due at the declaration."""
    if isinstance(value, str) and value.strip().lower() == "immediately":
        return timedelta(0)
    return value if isinstance(value, timedelta) else parse_duration(value)


class ComplianceEntry(StrictModel):
    key: str
    name: str
    within: Annotated[timedelta, BeforeValidator(_within)]
    remind_before: tuple[PositiveDuration, ...] = ()
    applies: bool = True

    @model_validator(mode="after")
    def _reminders_come_first(self) -> ComplianceEntry:
        if self.within < timedelta(0):
            raise ValueError(f"{self.key}: within must be a duration like 72h, or immediately")
        if any(before >= self.within for before in self.remind_before):
            raise ValueError(f"{self.key}: remind_before must be shorter than within"
                             + (" (a deadline due immediately has no reminders)" if not self.within else ""))
        return self


class PlaybookFile(StrictModel):
    """One playbooks/types/*.yml."""

    name: str
    default_severity: Severity
    private: bool = False
    roles: tuple[Role, ...] = (Role.IC,)
    symptoms: Texts
    immediate_actions: Texts
    resolution_steps: Texts
    communication: tuple[Text, ...] = ()
    compliance: tuple[ComplianceEntry, ...] = ()


def _load(path: Path) -> Playbook:
    if not KEY.match(path.stem):
        raise PolicyError(f"{path}: the file name is the type people type; use lowercase letters, digits and -")
    entry = load(path, PlaybookFile)
    return Playbook(
        key=path.stem, name=entry.name, default_severity=entry.default_severity, private=entry.private,
        roles=entry.roles, symptoms=entry.symptoms, immediate_actions=entry.immediate_actions,
        resolution_steps=entry.resolution_steps, communication=entry.communication,
        compliance=tuple(ComplianceClock(key=c.key, name=c.name, within=c.within, remind_before=c.remind_before)
                         for c in entry.compliance if c.applies),
    )
