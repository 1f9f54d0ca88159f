"""One probe of one health URL over httpx: what it answered (or why it did not), judged by the check."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from app.detection.config import HealthCheck

MAX_READ = 4096  # bytes of a failing answer worth reading
MAX_EXCERPT = 200  # characters of it worth keeping
USER_AGENT = "incident-coordinator-health-check"


@dataclass(frozen=True)
class ProbeResult:
    at: datetime
    ok: bool
    status_code: int | None  # None: no answer at all
    error: str | None  # why there was no answer (timeout, connection refused, ...)
    excerpt: str = ""  # the start of a failing answer's body

    @property
    def status(self) -> str:
        """Short, for titles: "503", "timed out after 5s", "ConnectError"."""
        if self.status_code is not None:
            return str(self.status_code)
        return (self.error or "no answer").partition(": ")[0]

    def describe(self) -> str:
        return describe(self.status_code, self.error, self.excerpt)


def describe(status_code: int | None, error: str | None, excerpt: str) -> str:
    """How a failed probe reads on the timeline."""
    outcome = f"answered {status_code}" if status_code is not None else (error or "no answer")
    return f"{outcome}: {excerpt}" if excerpt else outcome


async def probe_once(http: httpx.AsyncClient, check: HealthCheck, *, now: datetime) -> ProbeResult:
    """GET the check's URL once, within its timeout (the whole exchange, not each read)."""
    try:
        async with asyncio.timeout(check.timeout.total_seconds()):
            async with http.stream("GET", check.url, timeout=check.timeout.total_seconds(),
                                   headers={"User-Agent": USER_AGENT}) as response:
                if check.accepts(response.status_code):
                    return ProbeResult(at=now, ok=True, status_code=response.status_code, error=None)
                body = await _start_of(response)
    except (TimeoutError, httpx.TimeoutException):
        return ProbeResult(at=now, ok=False, status_code=None, error=f"timed out after {_seconds(check.timeout)}")
    except httpx.HTTPError as error:
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return ProbeResult(at=now, ok=False, status_code=None, error=reason[:200])
    return ProbeResult(at=now, ok=False, status_code=response.status_code, error=None,
                       excerpt=_excerpt(body, response.encoding))


async def _start_of(response: httpx.Response) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= MAX_READ:
            break
    return body[:MAX_READ]


def _excerpt(body: bytes, encoding: str | None) -> str:
    text = re.sub(r"\s+", " ", body.decode(encoding or "utf-8", errors="replace")).strip()
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1] + "…"


def _seconds(span: timedelta) -> str:
    seconds = span.total_seconds()
    return f"{seconds:g}s"
