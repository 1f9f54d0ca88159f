"""The health checks to run, read from playbooks/detection.yml (data, not code).

A malformed file stops start-up with a PolicyError naming the file, the check and the problem.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from app.incidents.models import Severity
from app.policy_files import PolicyError, PositiveDuration, StrictModel, parse_duration, read_yaml, validate

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")
PLACEHOLDER = re.compile(r"\{(\w*)\}")
TITLE_FIELDS = ("name", "url", "status")
DEFAULT_TITLE = "Health check failing: {name}"
MAX_TITLE = 200
DEFAULT_TIMEOUT = timedelta(seconds=10)


@dataclass(frozen=True)
class HealthCheck:
    """One URL to probe, how to judge its answer, and what to declare when it keeps failing."""

    name: str
    url: str
    interval: timedelta
    failures: int  # consecutive failed probes that make an incident
    timeout: timedelta
    expect_status: tuple[tuple[int, int], ...]  # inclusive ranges of acceptable status codes
    title: str  # may use {name}, {url} and {status}
    severity: Severity | None  # None: the playbook's default
    kind: str | None  # the playbook key ("type" in the file), stored on the incident
    impact: str
    service: str | None = None  # the catalog's service it checks (playbooks/services.yml)

    def accepts(self, status_code: int) -> bool:
        return any(low <= status_code <= high for low, high in self.expect_status)

    def title_for(self, status: str) -> str:
        values = {"name": self.name, "url": self.url, "status": status}
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], self.title)[:MAX_TITLE]


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


class CheckEntry(StrictModel):
    """One check in playbooks/detection.yml (the file's comments document each key)."""

    name: str
    url: str
    interval: PositiveDuration = timedelta(seconds=30)
    failures: int = Field(default=3, ge=1, strict=True)  # strict: `failures: yes` is not 1
    timeout: Annotated[timedelta | None, BeforeValidator(lambda v: _timeout(v))] = None
    expect_status: Annotated[tuple[tuple[int, int], ...], BeforeValidator(lambda v: _status_ranges(v))] = ((200, 399),)
    title: str = DEFAULT_TITLE
    severity: Annotated[Severity | None, BeforeValidator(_upper)] = None  # None: the playbook's default
    type: str | None = None  # a playbook key
    impact: str = ""
    service: str | None = None  # a key of playbooks/services.yml

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not NAME.match(name):
            raise ValueError(f"name {name!r} must be letters, digits, '.', '_' or '-' (at most 60)")
        return name

    @field_validator("url")
    @classmethod
    def _url(cls, url: str) -> str:
        if not re.match(r"^https?://[^\s/]+", url):
            raise ValueError(f"url {url!r} is not an http(s) URL")
        return url

    @field_validator("title")
    @classmethod
    def _title(cls, title: str) -> str:
        bad = [field for field in PLACEHOLDER.findall(title) if field not in TITLE_FIELDS]
        if bad:
            raise ValueError(f"title uses {{{bad[0]}}}; it may use {{name}}, {{url}} and {{status}}")
        return title or DEFAULT_TITLE

    @model_validator(mode="after")
    def _consistent(self) -> CheckEntry:
        if self.severity is None and self.type is None:
            raise ValueError("give a severity (P0-P3), a type (its playbook's default severity), or both")
        if self.timeout is not None and self.timeout > self.interval:
            raise ValueError(f"timeout {_shown(self.timeout)!r} must be no longer than the interval")
        return self


class DetectionFile(StrictModel):
    checks: tuple[Any, ...] = ()  # each check is validated on its own, so a problem names it


def load_checks(path: Path, *, kinds: Collection[str], services: Collection[str] = ()) -> list[HealthCheck]:
    """The checks in the file; no file means no checks. `kinds` are the playbook keys a check may name,
    `services` the catalog's."""
    data = read_yaml(path, missing=None)
    if data is None:
        return []
    checks: list[HealthCheck] = []
    for number, entry in enumerate(validate(DetectionFile, data, path=path).checks, start=1):
        where = f"check {number}"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            where += f" ({entry['name']})"
        check = validate(CheckEntry, entry, path=path, where=where)
        if check.type is not None and check.type not in kinds:
            raise PolicyError(f"{path}: {where}: type {check.type!r} is not a playbook "
                              f"(known: {', '.join(sorted(kinds)) or 'none'})")
        if check.service is not None and check.service not in services:
            raise PolicyError(f"{path}: {where}: service {check.service!r} is not in playbooks/services.yml "
                              f"(known: {', '.join(sorted(services)) or 'none'})")
        if any(c.name == check.name for c in checks):
            raise PolicyError(f"{path}: {where}: the name {check.name!r} is used twice")
        checks.append(HealthCheck(
            name=check.name, url=check.url, interval=check.interval, failures=check.failures,
            timeout=check.timeout or min(DEFAULT_TIMEOUT, check.interval), expect_status=check.expect_status,
            title=check.title, severity=check.severity, kind=check.type, impact=check.impact, service=check.service))
    return checks


def _shown(span: timedelta) -> str:
    seconds = span.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _timeout(value: object) -> timedelta | None:
    """A duration (5s) or a number of seconds (0.5); at most the interval, so probes never pile up."""
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        timeout = timedelta(seconds=value)
    else:
        timeout = parse_duration(value)
    if timeout <= timedelta(0):
        raise ValueError(f"timeout {value!r} must be longer than zero")
    return timeout


def _status_ranges(value: object) -> tuple[tuple[int, int], ...]:
    """200, "200-299" or a list of those."""
    items = value if isinstance(value, list) else [value]
    ranges = []
    for item in items:
        match = re.fullmatch(r"\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?", str(item))
        if not match or isinstance(item, bool):
            raise ValueError(f"expect_status {item!r} is not a status code or a range like 200-399")
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if not 100 <= low <= high <= 599:
            raise ValueError(f"expect_status {item!r} is not a range of HTTP status codes")
        ranges.append((low, high))
    if not ranges:
        raise ValueError("expect_status must name at least one status code")
    return tuple(ranges)
