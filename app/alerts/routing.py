"""Which alert becomes which incident: the rules of playbooks/alerts.yml, tried in order."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator

from app.alerts.alert import Alert
from app.incidents.models import Severity
from app.policy_files import PolicyError, StrictModel, load
from app.webhooks.deliveries import DeliveryRules

PLACEHOLDER = re.compile(r"\{(\w+)\}")
MAX_TITLE = 200
SOURCES = ("sentry", "alertmanager", "pagerduty")


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _alternatives(value: object) -> object:
    return [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value


class Rule(StrictModel):
    """One rule: the alerts it takes (all of `match`, and `source` if given) and the incident they make."""

    name: str
    source: Literal["sentry", "alertmanager", "pagerduty"] | None = None  # None: any
    match: dict[str, Annotated[tuple[str, ...], BeforeValidator(_alternatives)]] = {}  # noqa: RUF012 - pydantic copies a field's default for each instance
    type: str | None = None  # a playbook key
    severity: Annotated[Severity | None, BeforeValidator(_upper)] = None  # None: the playbook's default
    title: str = "{summary}"
    impact: str = ""
    service_field: str | None = None  # the alert's label or field naming the affected service(s), comma-separated

    def takes(self, alert: Alert) -> bool:
        if self.source is not None and alert.source != self.source:
            return False
        fields = {**alert.fields, "source": alert.source, "summary": alert.summary}
        return all(fields.get(key) in wanted or ("*" in wanted and key in fields)
                   for key, wanted in self.match.items())


class AlertsFile(StrictModel):
    rules: tuple[Rule, ...] = ()
    deliveries: DeliveryRules = DeliveryRules()


@dataclass(frozen=True)
class Route:
    """What to declare for an alert that no open incident has."""

    rule: str
    kind: str | None
    severity: Severity | None
    title: str
    impact: str
    services: tuple[str, ...] = ()  # as the alert's `service_field` names them (the declaration keeps the known)


@dataclass(frozen=True)
class AlertRules:
    rules: tuple[Rule, ...]
    deliveries: DeliveryRules = DeliveryRules()  # how fresh a delivery must be, and how long it is remembered

    def route(self, alert: Alert) -> Route | None:
        """The first rule that takes the alert; None: no rule does, the alert makes no incident."""
        rule = next((r for r in self.rules if r.takes(alert)), None)
        if rule is None:
            return None
        return Route(rule=rule.name, kind=rule.type, severity=rule.severity,
                     title=fill(rule.title, alert)[:MAX_TITLE] or alert.summary[:MAX_TITLE],
                     impact=fill(rule.impact, alert), services=tuple(
                         s.strip().lower() for s in str(alert.fields.get(rule.service_field or "", "")).split(",")
                         if s.strip()))


def fill(template: str, alert: Alert) -> str:
    """{field} becomes the alert's field ({source} and {summary} always exist); a field the alert lacks
    becomes nothing, so one template serves alerts that carry different labels."""
    fields = {**alert.fields, "source": alert.source, "summary": alert.summary}
    return re.sub(r"\s+", " ", PLACEHOLDER.sub(lambda m: fields.get(m.group(1), ""), template)).strip()


def load_alert_rules(path: Path, *, kinds: Collection[str]) -> AlertRules:
    """The rules in the file; no file means no rules (every alert is only logged)."""
    loaded = load(path, AlertsFile, missing=None)
    rules = loaded.rules
    names: set[str] = set()
    for number, rule in enumerate(rules, start=1):
        where = f"rules[{number}] ({rule.name})"
        if rule.type is None and rule.severity is None:
            raise PolicyError(f"{path}: {where}: give a severity (P0-P3), a type (its playbook's default "
                              "severity), or both")
        if rule.type is not None and rule.type not in kinds:
            raise PolicyError(f"{path}: {where}: type {rule.type!r} is not a playbook "
                              f"(known: {', '.join(sorted(kinds)) or 'none'})")
        if rule.name in names:
            raise PolicyError(f"{path}: {where}: the name {rule.name!r} is used twice")
        names.add(rule.name)
    return AlertRules(rules, loaded.deliveries)
