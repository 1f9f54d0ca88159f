"""The trackers' webhooks: how each proves who sent it, which delivery it is, and which issues it says were
finished.

Jira's admin webhooks sign the raw body with the webhook's secret (`X-Hub-Signature: sha256=<hex>`, the
WebSub form); GitHub's do the same in `X-Hub-Signature-256`. A request that proves nothing is refused
before its body is read as JSON. Each names its delivery in a header outside the signature
(`X-Atlassian-Webhook-Identifier`, kept across Jira's retries; `X-GitHub-Delivery`), so a delivery is
taken once under that id and under its signed body's digest (app/webhooks/deliveries.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from app.webhooks.deliveries import Delivery, body_id, delivery_id


class BadPayload(Exception):
    """Authenticated, but not a payload this tracker sends."""


def signed_by(secret: str, body: bytes, given: str) -> bool:
    """Constant-time, on bytes: compare_digest raises TypeError on a str with non-ASCII in it."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = given.strip().lower()
    return bool(given) and given.isascii() and hmac.compare_digest(given.encode("ascii"), expected.encode())


def _at(data: object, *path: str) -> object:
    """A value deep in a payload; None where any step is not an object."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


class Webhook(Protocol):
    @property
    def name(self) -> str: ...

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool: ...

    def delivery(self, headers: Mapping[str, str], body: bytes) -> Delivery: ...

    def finished(self, payload: Any, headers: Mapping[str, str]) -> list[str]:
        """The keys of the issues this delivery says are finished (closed, or moved to a done status)."""
        ...


@dataclass(frozen=True)
class JiraWebhook:
    secret: str
    name: str = "jira"

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        return signed_by(self.secret, body, headers.get("X-Hub-Signature", ""))

    def delivery(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        identifier = delivery_id(headers.get("X-Atlassian-Webhook-Identifier"), "X-Atlassian-Webhook-Identifier")
        return Delivery(self.name, ("identifier:" + identifier, body_id(body)))

    def finished(self, payload: Any, headers: Mapping[str, str]) -> list[str]:
        if not isinstance(payload, dict) or not isinstance(payload.get("issue"), dict):
            raise BadPayload("no issue")
        if payload.get("webhookEvent") != "jira:issue_updated":
            return []
        issue = payload["issue"]
        key = issue.get("key")
        if _at(issue, "fields", "status", "statusCategory", "key") != "done" or not key:
            return []
        if not isinstance(key, str):
            raise BadPayload("issue.key is not text")
        return [key]


@dataclass(frozen=True)
class GitHubWebhook:
    secret: str
    repo: str
    name: str = "github"

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        return signed_by(self.secret, body, headers.get("X-Hub-Signature-256", ""))

    def delivery(self, headers: Mapping[str, str], body: bytes) -> Delivery:
        return Delivery(self.name, ("delivery:" + delivery_id(headers.get("X-GitHub-Delivery"), "X-GitHub-Delivery"),
                                    body_id(body)))

    def finished(self, payload: Any, headers: Mapping[str, str]) -> list[str]:
        if headers.get("X-GitHub-Event") != "issues":
            return []  # ping, and events this webhook was not meant to send
        if not isinstance(payload, dict) or not isinstance(payload.get("issue"), dict):
            raise BadPayload("no issue")
        repo = _at(payload, "repository", "full_name")
        if payload.get("action") != "closed" or not isinstance(repo, str) or repo.lower() != self.repo.lower():
            return []
        number = payload["issue"].get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            raise BadPayload("issue.number is not a number")
        return [f"{self.repo}#{number}"]
