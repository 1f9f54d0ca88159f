"""The health checks to run, read from playbooks/detection.yml (data, not code).

A malformed file stops start-up with a PolicyError naming the file, the check and the problem.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from app.incidents.models import Severity
from app.incidents.policy import PolicyError, parse_duration

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$")
PLACEHOLDER = re.compile(r"\{(\w*)\}")
TITLE_FIELDS = ("name", "url", "status")
DEFAULT_TITLE = "Health check failing: {name}"
MAX_TITLE = 200
KEYS = {"name", "url", "interval", "failures", "timeout", "expect_status", "title", "severity", "type", "impact"}


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

    def accepts(self, status_code: int) -> bool:
        return any(low <= status_code <= high for low, high in self.expect_status)

    def title_for(self, status: str) -> str:
        values = {"name": self.name, "url": self.url, "status": status}
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], self.title)[:MAX_TITLE]


def load_checks(path: Path, *, kinds: Collection[str]) -> list[HealthCheck]:
    """The checks in the file; no file means no checks. `kinds` are the playbook keys a check may name."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"checks"}:
        raise PolicyError(f"{path}: expected a mapping with one key, 'checks' (a list of health checks)")
    entries = data.get("checks") or []
    if not isinstance(entries, list):
        raise PolicyError(f"{path}: 'checks' must be a list of health checks")
    checks: list[HealthCheck] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: check {number}"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            where += f" ({entry['name']})"
        try:
            check = _check(entry, kinds)
        except (ValueError, TypeError) as error:
            raise PolicyError(f"{where}: {error}") from None
        if any(c.name == check.name for c in checks):
            raise PolicyError(f"{where}: the name {check.name!r} is used twice")
        checks.append(check)
    return checks


def _check(entry: Any, kinds: Collection[str]) -> HealthCheck:
    if not isinstance(entry, dict):
        raise TypeError("expected a mapping with name, url, interval, ...")
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    name = _required(entry, "name")
    if not NAME.match(name):
        raise ValueError(f"name {name!r} must be letters, digits, '.', '_' or '-' (at most 60)")
    url = _required(entry, "url")
    if not re.match(r"^https?://[^\s/]+", url):
        raise ValueError(f"url {url!r} is not an http(s) URL")
    interval = _duration("interval", entry.get("interval", "30s"))
    if interval <= timedelta(0):
        raise ValueError("interval must be longer than zero")
    failures = entry.get("failures", 3)
    if not isinstance(failures, int) or isinstance(failures, bool) or failures < 1:
        raise ValueError(f"failures must be a whole number of consecutive failures, 1 or more (not {failures!r})")
    timeout = _timeout(entry.get("timeout"), interval)
    kind = entry.get("type")
    if kind is not None and str(kind) not in kinds:
        raise ValueError(f"type {kind!r} is not a playbook (known: {', '.join(sorted(kinds)) or 'none'})")
    severity = entry.get("severity")
    if severity is None and kind is None:
        raise ValueError("give a severity (P0-P3), a type (its playbook's default severity), or both")
    if severity is not None and str(severity).upper() not in Severity.__members__:
        raise ValueError(f"severity {severity!r} is not one of P0, P1, P2, P3")
    title = str(entry.get("title") or DEFAULT_TITLE).strip()
    bad = [field for field in PLACEHOLDER.findall(title) if field not in TITLE_FIELDS]
    if bad:
        raise ValueError(f"title uses {{{bad[0]}}}; it may use {{name}}, {{url}} and {{status}}")
    return HealthCheck(
        name=name, url=url, interval=interval, failures=failures, timeout=timeout,
        expect_status=_status_ranges(entry.get("expect_status", "200-399")), title=title,
        severity=None if severity is None else Severity(str(severity).upper()),
        kind=None if kind is None else str(kind), impact=str(entry.get("impact") or "").strip(),
    )


def _required(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"missing {key!r}")
    return value.strip()


def _duration(key: str, value: object) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise ValueError(f"{key}: {error}") from None


def _timeout(value: object, interval: timedelta) -> timedelta:
    """A duration (5s) or a number of seconds (0.5); at most the interval, so probes never pile up."""
    if value is None:
        return min(timedelta(seconds=10), interval)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        timeout = timedelta(seconds=value)
    else:
        timeout = _duration("timeout", value)
    if not timedelta(0) < timeout <= interval:
        raise ValueError(f"timeout {value!r} must be longer than zero and no longer than the interval")
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
