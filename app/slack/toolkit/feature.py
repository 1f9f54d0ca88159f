"""What a feature tells the bootstrap it handles, as tables: the /incident commands (by command type) and the
kinds of due work (by WorkKind), with the cadence of any recurring kind and the sweeps it adds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.duework.attempt import Attempt
from app.duework.models import WorkKind
from app.duework.sweeper import Fired
from app.incidents.models import Incident
from app.slack.toolkit.acting import CommandHandler

DueWorkHandler = Callable[[Attempt, Incident, datetime], Awaitable[Fired]]
Sweep = Callable[[], Awaitable[int]]


@dataclass(frozen=True)
class Feature:
    commands: Mapping[type, CommandHandler] = field(default_factory=dict)
    due_work: Mapping[WorkKind, DueWorkHandler] = field(default_factory=dict)
    cadences: Mapping[WorkKind, timedelta] = field(default_factory=dict)  # recurring kinds, resolved or not
    sweeps: tuple[Sweep, ...] = ()  # work left behind that each sweep takes up first
