"""Which alert becomes which incident: the rules of playbooks/alerts.yml, tried in order."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from app.alerts.alert import Alert
from app.incidents.models import Severity
from app.integrations.environment import EnvName
from app.policy_files import PolicyError, PositiveDuration, StrictModel, load
from app.webhooks.deliveries import DeliveryRules

PLACEHOLDER = re.compile(r"\{(\w+)\}")
MAX_TITLE = 200
SourceName = Literal["sentry", "alertmanager", "pagerduty"]  # the senders of POST /alerts/<source>
MAX_RULE_NAME = 60
MAX_GROUP_KEY = 300
STORM = "*storm*"  # the storm's row among the groups: no rule may be named so (a rule's name has no "*")


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _alternatives(value: object) -> object:
    return [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value


class Rule(StrictModel):
    """One rule: the alerts it takes (all of `match`, and `source` if given) and the incident they make."""

    name: str
    source: SourceName | None = None  # None: any
    match: dict[str, Annotated[tuple[str, ...], BeforeValidator(_alternatives)]] = {}  # noqa: RUF012 - pydantic copies a field's default for each instance
    type: str | None = None  # a playbook key
    severity: Annotated[Severity | None, BeforeValidator(_upper)] = None  # None: the playbook's default
    title: str = "{summary}"
    impact: str = ""
    # Alerts this rule takes that share these fields' values join one incident (within grouping.window of the
    # group's last alert). None: grouping.group_by; []: each fingerprint an incident of its own.
    group_by: tuple[str, ...] | None = None
    service_field: str | None = None  # the alert's label or field naming the affected service(s), comma-separated

    def takes(self, alert: Alert) -> bool:
        if self.source is not None and alert.source != self.source:
            return False
        fields = {**alert.fields, "source": alert.source, "summary": alert.summary}
        return all(fields.get(key) in wanted or ("*" in wanted and key in fields)
                   for key, wanted in self.match.items())


class Storm(StrictModel):
    """Past `threshold` new incidents from alerts within `window`, further alerts join one storm incident."""

    threshold: int = Field(default=5, ge=0)  # 0: never fold a storm
    window: PositiveDuration = timedelta(minutes=10)
    title: str = "Alert storm"
    severity: Annotated[Severity, BeforeValidator(_upper)] = Severity.P1
    type: str | None = None  # a playbook key; None: no playbook
    impact: str = "Many alerts at once; each is on this incident's timeline."


class Grouping(StrictModel):
    """The `grouping:` section of playbooks/alerts.yml."""

    window: PositiveDuration = timedelta(minutes=30)  # how long after a group's last alert it still joins
    group_by: tuple[str, ...] = ("alertname", "service")  # the rules' default
    storm: Storm = Storm()

    @property
    def folds(self) -> Storm | None:
        """The storm rule, if storms fold at all."""
        return self.storm if self.storm.threshold > 0 else None


# The variable holding each sender's secret when the file does not name another (the README's setup).
DEFAULT_SECRET_ENV: dict[str, str] = {"sentry": "SENTRY_CLIENT_SECRET", "alertmanager": "ALERTMANAGER_WEBHOOK_TOKEN",
                                      "pagerduty": "PAGERDUTY_WEBHOOK_SECRET"}


class SourceSettings(StrictModel):
    """One sender of `sources:`: the variable holding the secret its requests prove themselves with."""

    webhook_secret_env: EnvName | None = None  # None: DEFAULT_SECRET_ENV's


class AlertsFile(StrictModel):
    rules: tuple[Rule, ...] = ()
    # The senders accepted, each with its secret's variable (app/alerts/connect.py). None: each sender whose
    # default variable is set.
    sources: dict[SourceName, SourceSettings | None] | None = None
    deliveries: DeliveryRules = DeliveryRules()
    grouping: Grouping = Grouping()


@dataclass(frozen=True)
class Route:
    """What to declare for an alert that no open incident has."""

    rule: str
    kind: str | None
    severity: Severity | None
    title: str
    impact: str
    group: str | None = None  # the key of the group it joins (its group_by fields' values); None: not grouped
    services: tuple[str, ...] = ()  # as the alert's `service_field` names them (the declaration keeps the known)


@dataclass(frozen=True)
class AlertRules:
    rules: tuple[Rule, ...]
    deliveries: DeliveryRules = DeliveryRules()  # how fresh a delivery must be, and how long it is remembered
    grouping: Grouping = Grouping()
    sources: Mapping[SourceName, SourceSettings | None] | None = None  # the file's `sources:` (None: not given)

    def route(self, alert: Alert) -> Route | None:
        """The first rule that takes the alert; None: no rule does, the alert makes no incident."""
        rule = next((r for r in self.rules if r.takes(alert)), None)
        if rule is None:
            return None
        return Route(rule=rule.name, kind=rule.type, severity=rule.severity,
                     title=fill(rule.title, alert)[:MAX_TITLE] or alert.summary[:MAX_TITLE],
                     impact=fill(rule.impact, alert), group=self.group_key(rule, alert), services=tuple(
                         s.strip().lower() for s in str(alert.fields.get(rule.service_field or "", "")).split(",")
                         if s.strip()))

    def group_key(self, rule: Rule, alert: Alert) -> str | None:
        """`field=value` for each of the rule's group_by fields the alert has; None if it has none of them
        (an alert that carries nothing to group by is not folded with strangers)."""
        fields = {**alert.fields, "source": alert.source}
        by = self.grouping.group_by if rule.group_by is None else rule.group_by
        present = [(name, fields[name]) for name in by if fields.get(name)]
        if not present:
            return None
        key = ",".join(f"{name}={value}" for name, value in present)
        if len(key) > MAX_GROUP_KEY:  # kept whole in the database's key by its digest
            key = key[:MAX_GROUP_KEY - 65] + "#" + hashlib.sha256(key.encode()).hexdigest()
        return key


def fill(template: str, alert: Alert) -> str:
    """{field} becomes the alert's field ({source} and {summary} always exist); a field the alert lacks
    becomes nothing, so one template serves alerts that carry different labels."""
    fields = {**alert.fields, "source": alert.source, "summary": alert.summary}
    return re.sub(r"\s+", " ", PLACEHOLDER.sub(lambda m: fields.get(m.group(1), ""), template)).strip()


def load_alert_rules(path: Path, *, kinds: Collection[str]) -> AlertRules:
    """The rules in the file; no file means no rules (every alert is only logged)."""
    loaded = load(path, AlertsFile, missing=None)
    rules = loaded.rules
    storm = loaded.grouping.storm
    if storm.type is not None and storm.type not in kinds:
        raise PolicyError(f"{path}: grouping.storm: type {storm.type!r} is not a playbook "
                          f"(known: {', '.join(sorted(kinds)) or 'none'})")
    names: set[str] = set()
    for number, rule in enumerate(rules, start=1):
        where = f"rules[{number}] ({rule.name})"
        if rule.type is None and rule.severity is None:
            raise PolicyError(f"{path}: {where}: give a severity (P0-P3), a type (its playbook's default "
                              "severity), or both")
        if rule.type is not None and rule.type not in kinds:
            raise PolicyError(f"{path}: {where}: type {rule.type!r} is not a playbook "
                              f"(known: {', '.join(sorted(kinds)) or 'none'})")
        if len(rule.name) > MAX_RULE_NAME or "*" in rule.name:
            raise PolicyError(f"{path}: {where}: a name is at most {MAX_RULE_NAME} characters, without '*'")
        if rule.name in names:
            raise PolicyError(f"{path}: {where}: the name {rule.name!r} is used twice")
        names.add(rule.name)
    return AlertRules(rules, loaded.deliveries, loaded.grouping, loaded.sources)
