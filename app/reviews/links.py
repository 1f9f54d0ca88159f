"""Private links: a published review at /incidents/<id>/review.md?expires=<unix>&sig=<hex>, and the
insights page (app/insights/links.py) signed the same way.

The signature is HMAC-SHA256 over what the link shows (the incident id) and the expiry, keyed by LINK_SECRET,
so a link cannot be guessed from an incident's sequential id nor kept working past its expiry by editing it.
Without LINK_SECRET the key is derived from the Slack signing secret (or, over Socket Mode, the app
token), HKDF-style, so a default install signs links that stay valid across restarts and replicas.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

LIFETIME = timedelta(days=90)  # the default of followup.yml's review.link_valid_for
PURPOSE = b"incident-coordinator review links v1"
EXPIRES = re.compile(r"[0-9]{1,12}")  # ASCII digits: str.isdigit() takes "²", which int() refuses
SIGNATURE = re.compile(r"[0-9a-f]{64}")


def link_key(link_secret: str | None, fallback: str) -> bytes:
    """LINK_SECRET itself, else a key of its own derived from `fallback` (never the fallback as is)."""
    if link_secret:
        return link_secret.encode()
    return hmac.new(fallback.encode(), PURPOSE, hashlib.sha256).digest()


class SignedLinks:
    """HMAC-SHA256 of what a link shows (`subject`) and its expiry: the one rule every private page follows."""

    def __init__(self, key: bytes, public_url: str | None) -> None:
        self._key = key
        self.public_url = public_url

    def query(self, subject: str, expires: datetime) -> str:
        at = int(expires.timestamp())
        return f"expires={at}&sig={self._signature(subject, at)}"

    def allows(self, subject: str, query: Mapping[str, str], now: datetime) -> bool:
        """Only a well-formed, unexpired link signed for `subject`; anything else (never an exception) is False."""
        expires, signature = query.get("expires", ""), query.get("sig", "")
        if not EXPIRES.fullmatch(expires) or int(expires) < now.timestamp() or not SIGNATURE.fullmatch(signature):
            return False
        try:
            expected = self._signature(subject, int(expires))
        except UnicodeEncodeError:  # a subject taken from the query (an insights window) with a lone surrogate
            return False
        return hmac.compare_digest(signature.encode("ascii"), expected.encode("ascii"))

    def full(self, path: str) -> str:
        """The full URL when PUBLIC_URL is set, else the path alone."""
        return f"{self.public_url or ''}{path}"

    def _signature(self, subject: str, expires: int) -> str:
        return hmac.new(self._key, f"{subject}:{expires}".encode(), hashlib.sha256).hexdigest()


class ReviewLinks:
    def __init__(self, key: bytes, public_url: str | None, lifetime: timedelta = LIFETIME) -> None:
        self.signed = SignedLinks(key, public_url)
        self.public_url = public_url
        self.lifetime = lifetime

    def path(self, incident_id: int, now: datetime) -> str:
        return f"/incidents/{incident_id}/review.md?{self.signed.query(f'review:{incident_id}', now + self.lifetime)}"

    def url(self, incident_id: int, now: datetime) -> str:
        """The full URL when PUBLIC_URL is set, else the path alone."""
        return self.signed.full(self.path(incident_id, now))

    def allows(self, incident_id: int, query: Mapping[str, str], now: datetime) -> bool:
        return self.signed.allows(f"review:{incident_id}", query, now)
