"""Private links to a published review: /incidents/<id>/review.md?expires=<unix>&sig=<hex>.

The signature is HMAC-SHA256 over the incident id and the expiry, keyed by LINK_SECRET, so a link
cannot be guessed from an incident's sequential id nor kept working past its expiry by editing it.
Without LINK_SECRET the key is derived from the Slack signing secret (or, over Socket Mode, the app
token), HKDF-style, so a default install signs links that stay valid across restarts and replicas.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta

LIFETIME = timedelta(days=90)  # the default of followup.yml's review.link_valid_for
PURPOSE = b"incident-coordinator review links v1"


def link_key(link_secret: str | None, fallback: str) -> bytes:
    """LINK_SECRET itself, else a key of its own derived from `fallback` (never the fallback as is)."""
    if link_secret:
        return link_secret.encode()
    return hmac.new(fallback.encode(), PURPOSE, hashlib.sha256).digest()


class ReviewLinks:
    def __init__(self, key: bytes, public_url: str | None, lifetime: timedelta = LIFETIME) -> None:
        self._key = key
        self.public_url = public_url
        self.lifetime = lifetime

    def path(self, incident_id: int, now: datetime) -> str:
        expires = int((now + self.lifetime).timestamp())
        return f"/incidents/{incident_id}/review.md?expires={expires}&sig={self._signature(incident_id, expires)}"

    def url(self, incident_id: int, now: datetime) -> str:
        """The full URL when PUBLIC_URL is set, else the path alone."""
        return f"{self.public_url or ''}{self.path(incident_id, now)}"

    def allows(self, incident_id: int, query: Mapping[str, str], now: datetime) -> bool:
        expires, signature = query.get("expires", ""), query.get("sig", "")
        if not expires.isdigit() or len(expires) > 12 or int(expires) < now.timestamp():
            return False
        return hmac.compare_digest(signature, self._signature(incident_id, int(expires)))

    def _signature(self, incident_id: int, expires: int) -> str:
        return hmac.new(self._key, f"review:{incident_id}:{expires}".encode(), hashlib.sha256).hexdigest()
