"""The senders: how each proves who it is, and how its payload reads as alerts.

Sentry signs the raw body with the integration's client secret (`Sentry-Hook-Signature`, HMAC-SHA256
hex). Alertmanager's webhook_config (and Grafana's and Render's, which send the same v4 payload) carries a
bearer token. PagerDuty's v3 webhooks sign the raw body too (`X-PagerDuty-Signature: v1=<hex>`, several
while a secret is being rotated). A request that proves nothing is refused before its body is read as JSON.

Sentry and PagerDuty say which delivery a request is (`Request-ID`; `event.id`) and when it was sent
(`Sentry-Hook-Timestamp`; `event.occurred_at`): app/webhooks/deliveries.py takes each once and refuses a
stale one. Sentry's headers are outside its signature, so a signed Sentry body is also taken once by its
digest. Alertmanager names no delivery: its repeats are the same alert again, and go on the timeline.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from app.alerts.alert import Alert, AlertStatus, link
from app.oncall.pagers import is_our_dedup_key
from app.webhooks.deliveries import Delivery, body_id, delivery_id, iso_time, unix_time

MAX_SUMMARY = 300
MAX_SIGNATURES = 8  # PagerDuty signs with each secret while one is rotated: a few, not thousands to try


class BadPayload(Exception):
    """Authenticated, but not a payload this source sends; the message says what is wrong."""


class Source(Protocol):
    @property
    def name(self) -> str: ...

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool: ...

    def alerts(self, payload: Any, headers: Mapping[str, str]) -> list[Alert]: ...

    def delivery(self, payload: Any, headers: Mapping[str, str], body: bytes) -> Delivery | None:
        """Which delivery this is, for taking it once; None: the sender names none."""
        ...


def _hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    """Constant-time, on bytes: compare_digest raises TypeError on a str with non-ASCII in it."""
    return given.isascii() and hmac.compare_digest(given.encode("ascii"), expected.encode())


def _text(value: object) -> str:
    return "" if value is None else re.sub(r"\s+", " ", str(value)).strip()


def _summary(*candidates: object) -> str:
    text = next((t for t in map(_text, candidates) if t), "(no summary)")
    return text if len(text) <= MAX_SUMMARY else text[: MAX_SUMMARY - 1] + "…"


def _mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadPayload(f"{what} is not an object")
    return value


def _strings(values: object, what: str) -> dict[str, str]:
    """An object's plain fields as text (absent: none); anything but an object is not what the sender sends."""
    if values is None:
        return {}
    return {str(k): _text(v) for k, v in _mapping(values, what).items() if not isinstance(v, (dict, list))}


@dataclass(frozen=True)
class Sentry:
    """Issue alerts (`Sentry-Hook-Resource: event_alert`) and issue webhooks (`issue`: created, resolved)."""

    client_secret: str
    name: str = "sentry"

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        given = headers.get("Sentry-Hook-Signature", "").strip()
        return bool(given) and _same(given.lower(), _hmac_hex(self.client_secret, body))

    def delivery(self, payload: Any, headers: Mapping[str, str], body: bytes) -> Delivery:
        ids = [body_id(body)]
        if "Request-ID" in headers:
            ids.insert(0, "request:" + delivery_id(headers["Request-ID"], "Request-ID"))
        sent_at = unix_time(headers.get("Sentry-Hook-Timestamp", ""), "Sentry-Hook-Timestamp")
        return Delivery(self.name, tuple(ids), sent_at)

    def alerts(self, payload: Any, headers: Mapping[str, str]) -> list[Alert]:
        resource = headers.get("Sentry-Hook-Resource", "event_alert")
        payload = _mapping(payload, "the body")
        data = _mapping(payload.get("data"), "data")
        if resource == "event_alert":
            event = _mapping(data.get("event"), "data.event")
            issue_id = _text(event.get("issue_id"))
            if not issue_id:
                raise BadPayload("data.event.issue_id is missing")
            fields = _strings(event, "data.event")
            tags = event.get("tags") or []
            if not isinstance(tags, list):
                raise BadPayload("data.event.tags is not a list")
            fields.update({_text(pair[0]): _text(pair[1])
                           for pair in tags if isinstance(pair, list) and len(pair) == 2})
            fields["rule"] = _text(data.get("triggered_rule"))
            return [Alert(source=self.name, fingerprint=issue_id, status=AlertStatus.FIRING,
                          summary=_summary(event.get("title"), event.get("message"), event.get("culprit")),
                          fields=fields, url=link(_text(event.get("web_url"))),
                          severity=fields.get("level") or None)]
        if resource == "issue":
            issue = _mapping(data.get("issue"), "data.issue")
            status = {"created": AlertStatus.FIRING, "unresolved": AlertStatus.FIRING,
                      "resolved": AlertStatus.RESOLVED}.get(_text(payload.get("action")))
            if status is None or not _text(issue.get("id")):
                return []  # assigned, ignored, archived...: nothing an incident needs
            fields = _strings(issue, "data.issue")
            project = issue.get("project")
            if isinstance(project, dict):
                fields["project"] = _text(project.get("slug"))
            return [Alert(source=self.name, fingerprint=_text(issue["id"]), status=status,
                          summary=_summary(issue.get("title"), issue.get("culprit")), fields=fields,
                          url=link(_text(issue.get("web_url") or issue.get("permalink"))),
                          severity=fields.get("level") or None)]
        return []  # installation, comment, metric_alert...: not an issue alert


@dataclass(frozen=True)
class Alertmanager:
    """Alertmanager's webhook_config payload, version 4: one line per alert of the notification's group;
    the group (`groupKey`) is the fingerprint, so a group makes one incident."""

    token: str
    name: str = "alertmanager"

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        scheme, _, given = headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and _same(given.strip(), self.token)

    def delivery(self, payload: Any, headers: Mapping[str, str], body: bytes) -> None:
        return None  # no delivery id: a repeat notification is the alert again, for the timeline

    def alerts(self, payload: Any, headers: Mapping[str, str]) -> list[Alert]:
        payload = _mapping(payload, "the body")
        if str(payload.get("version", "4")) != "4":
            raise BadPayload("version is not 4")
        alerts = payload.get("alerts")
        if not isinstance(alerts, list):
            raise BadPayload("alerts is not a list")
        common = {**_strings(payload.get("commonLabels"), "commonLabels"),
                  **_strings(payload.get("commonAnnotations"), "commonAnnotations")}
        found = []
        for number, entry in enumerate(alerts, start=1):
            entry = _mapping(entry, f"alerts[{number}]")
            fields = {**common, **_strings(entry.get("labels"), f"alerts[{number}].labels"),
                      **_strings(entry.get("annotations"), f"alerts[{number}].annotations")}
            fingerprint = _text(payload.get("groupKey")) or _text(entry.get("fingerprint"))
            if not fingerprint:
                raise BadPayload(f"alerts[{number}] has no fingerprint and the payload no groupKey")
            status = AlertStatus.RESOLVED if _text(entry.get("status")) == "resolved" else AlertStatus.FIRING
            found.append(Alert(source=self.name, fingerprint=fingerprint, status=status,
                               summary=_summary(fields.get("summary"), fields.get("description"),
                                                fields.get("alertname")),
                               fields=fields, severity=fields.get("severity") or None,
                               url=link(_text(entry.get("generatorURL"))) or link(_text(payload.get("externalURL")))))
        return found


@dataclass(frozen=True)
class PagerDuty:
    """Webhooks v3: `incident.triggered` and `incident.resolved`. An incident PagerDuty opened because this
    bot paged someone (its dedup key is ours) is not an alert about a new problem, and is skipped."""

    secret: str
    name: str = "pagerduty"

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        expected = "v1=" + _hmac_hex(self.secret, body)
        given = [part.strip() for part in headers.get("X-PagerDuty-Signature", "").split(",")]
        return any(_same(signature.lower(), expected) for signature in given[:MAX_SIGNATURES] if signature)

    def delivery(self, payload: Any, headers: Mapping[str, str], body: bytes) -> Delivery:
        event = _mapping(_mapping(payload, "the body").get("event"), "event")
        return Delivery(self.name, ("event:" + delivery_id(event.get("id"), "event.id"),),
                        iso_time(event.get("occurred_at"), "event.occurred_at"))

    def alerts(self, payload: Any, headers: Mapping[str, str]) -> list[Alert]:
        event = _mapping(_mapping(payload, "the body").get("event"), "event")
        status = {"incident.triggered": AlertStatus.FIRING, "incident.resolved": AlertStatus.RESOLVED,
                  "incident.acknowledged": AlertStatus.ACKNOWLEDGED}.get(_text(event.get("event_type")))
        if status is None:
            return []
        incident = _mapping(event.get("data"), "event.data")
        if not _text(incident.get("id")):
            raise BadPayload("event.data.id is missing")
        dedup_key = _text(incident.get("incident_key"))
        if is_our_dedup_key(dedup_key):
            if status is not AlertStatus.ACKNOWLEDGED:
                return []
            # Someone answered our page in PagerDuty: that page is acknowledged, as whoever PagerDuty names.
            agent = event.get("agent")
            if not isinstance(agent, dict):
                agent = {}
            return [Alert(source=self.name, fingerprint=dedup_key, status=status,
                          summary=_summary(incident.get("title")),
                          fields={"acknowledged_by": _text(agent.get("summary")) or "PagerDuty"})]
        if status is AlertStatus.ACKNOWLEDGED:
            return []  # someone else's alert, acknowledged: no news for an incident
        fields = _strings(incident, "event.data")
        for key in ("service", "priority", "escalation_policy"):
            if isinstance(incident.get(key), dict):
                fields[key] = _text(incident[key].get("summary"))
        return [Alert(source=self.name, fingerprint=_text(incident["id"]), status=status,
                      summary=_summary(incident.get("title"), incident.get("summary")), fields=fields,
                      url=link(_text(incident.get("html_url"))), severity=fields.get("urgency") or None)]
