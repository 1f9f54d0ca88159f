"""The on-call roster: primary and backup in turns, one rotation each (the plan: 7 days)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from app.clock import utc
from app.incidents.policy import PolicyError, parse_duration


@dataclass(frozen=True)
class Shift:
    primary: str | None
    backup: str | None
    starts: datetime
    ends: datetime


@dataclass(frozen=True)
class Roster:
    starts: datetime
    length: timedelta
    primary: tuple[str, ...]
    backup: tuple[str, ...]
    management_group: str | None
    management_users: tuple[str, ...]
    leads: dict[str, str]  # role key → who takes it when a playbook needs the role and nobody was named

    def shift_at(self, moment: datetime) -> Shift:
        number = int((utc(moment) - self.starts) // self.length)
        begins = self.starts + number * self.length
        return Shift(
            primary=self.primary[number % len(self.primary)] if self.primary else None,
            backup=self.backup[number % len(self.backup)] if self.backup else None,
            starts=begins,
            ends=begins + self.length,
        )

    def now_and_next(self, moment: datetime) -> tuple[Shift, Shift]:
        current = self.shift_at(moment)
        return current, self.shift_at(current.ends)

    @classmethod
    def load(cls, path: Path) -> Roster:
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise PolicyError(f"{path}: file is missing") from None
        except yaml.YAMLError as error:
            raise PolicyError(f"{path}: not valid YAML ({error})") from None
        try:
            rotation = data["rotation"]
            starts = rotation["starts"]
            starts = utc(starts if isinstance(starts, datetime) else datetime.fromisoformat(str(starts)))
            management = data.get("management") or {}
            roster = cls(
                starts=starts,
                length=parse_duration(rotation.get("length", "7d")),
                primary=tuple(str(p) for p in rotation.get("primary") or ()),
                backup=tuple(str(p) for p in rotation.get("backup") or ()),
                management_group=management.get("usergroup"),
                management_users=tuple(str(u) for u in management.get("users") or ()),
                leads={str(role): str(who) for role, who in (data.get("leads") or {}).items() if who},
            )
        except (KeyError, TypeError) as error:
            raise PolicyError(f"{path}: missing or malformed {error}") from None
        except ValueError as error:
            raise PolicyError(f"{path}: {error}") from None
        if roster.length <= timedelta(0):
            raise PolicyError(f"{path}: rotation length must be longer than zero")
        return roster
