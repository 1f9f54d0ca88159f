"""The trackers' webhooks: how each proves who sent it, and which issues it says were finished.

Jira's admin webhooks sign the raw body with the webhook's secret (`X-Hub-Signature: sha256=<hex>`, the
WebSub form); GitHub's do the same in `X-Hub-Signature-256`. A request that proves nothing is refused
before its body is read as JSON.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class BadPayload(Exception):
    """Authenticated, but not a payload this tracker sends."""


def signed_by(secret: str, body: bytes, given: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return bool(given) and hmac.compare_digest(given.strip().lower().encode(), expected.encode())


class Webhook(Protocol):
    name: str

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool: ...

    def finished(self, payload: Any, headers: Mapping[str, str]) -> list[str]:
        """The keys of the issues this delivery says are finished (closed, or moved to a done status)."""
        ...


@dataclass(frozen=True)
class JiraWebhook:
    secret: str
    name: str = "jira"

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        return signed_by(self.secret, body, headers.get("X-Hub-Signature", ""))

    def finished(self, payload: Any, headers: Mapping[str, str]) -> list[str]:
        if not isinstance(payload, dict) or not isinstance(payload.get("issue"), dict):
            raise BadPayload("no issue")
        if payload.get("webhookEvent") != "jira:issue_updated":
            return []
        issue = payload["issue"]
        category = (((issue.get("fields") or {}).get("status") or {}).get("statusCategory") or {}).get("key")
        return [str(issue["key"])] if category == "done" and issue.get("key") else []


@dataclass(frozen=True)
class GitHubWebhook:
    secret: str
    repo: str
    name: str = "github"

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool:
        return signed_by(self.secret, body, headers.get("X-Hub-Signature-256", ""))

    def finished(self, payload: Any, headers: Mapping[str, str]) -> list[str]:
        if headers.get("X-GitHub-Event") != "issues":
            return []  # ping, and events this webhook was not meant to send
        if not isinstance(payload, dict) or not isinstance(payload.get("issue"), dict):
            raise BadPayload("no issue")
        repo = str((payload.get("repository") or {}).get("full_name") or "")
        if payload.get("action") != "closed" or repo.lower() != self.repo.lower():
            return []
        return [f"{self.repo}#{payload['issue'].get('number')}"]
