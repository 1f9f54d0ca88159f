"""The insights page's private link: /insights?window=<name>&expires=<unix>&sig=<hex>, signed as review
links are (app/reviews/links.py): the window is part of what is signed, so editing it breaks the link."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from app.reviews.links import SignedLinks

INSIGHTS_PATH = "/insights"


class InsightsLinks:
    def __init__(self, key: bytes, public_url: str | None, *, lifetime: timedelta) -> None:
        self.signed = SignedLinks(key, public_url)
        self.lifetime = lifetime

    def path(self, window: str, now: datetime) -> str:
        return self.path_until(window, now + self.lifetime)

    def path_until(self, window: str, expires: datetime) -> str:
        """A link that stops working at `expires` (the page's links to other windows last as long as it)."""
        return f"{INSIGHTS_PATH}?window={window}&{self.signed.query(_subject(window), expires)}"

    def url(self, window: str, now: datetime) -> str:
        """The full URL when PUBLIC_URL is set, else the path alone."""
        return self.signed.full(self.path(window, now))

    def window(self, query: Mapping[str, str], now: datetime) -> str | None:
        """The window a signed, unexpired link shows; None for anything else."""
        window = query.get("window", "")
        return window if self.signed.allows(_subject(window), query, now) else None


def _subject(window: str) -> str:
    return f"insights:{window}"
