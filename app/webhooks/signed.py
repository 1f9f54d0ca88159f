"""The door of every webhook route: verify first, fail closed, then read the body as JSON.

What the monitoring tools (app/alerts/web.py) and the trackers (app/trackers/web.py) send is refused in the
same order: not proving its sender 401 (an unconfigured sender looks the same as a wrong secret, and a
verifier that raises has verified nothing), not application/json 415, not a JSON document 400. Each refusal
is one bounded log line (app/ops/refusals.py) whose reason is this code's own words and the sender's
configured name, never the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import web

from app.ops.refusals import refuse
from app.webhooks.deliveries import NotJson, is_json, json_body


class Sender(Protocol):
    @property
    def name(self) -> str: ...

    def authentic(self, headers: Mapping[str, str], body: bytes) -> bool: ...


S = TypeVar("S", bound=Sender)


@dataclass(frozen=True)
class Signed(Generic[S]):
    """A request its sender proved, with its body read as JSON."""

    sender: S
    body: bytes
    payload: Any


def _authentic(sender: Sender, request: web.Request, body: bytes) -> bool:
    try:
        return sender.authentic(request.headers, body)
    except Exception:  # broad on purpose: a verifier that raises has verified nothing: a refusal, not a 500
        return False


async def signed_json(request: web.Request, sender: S | None) -> Signed[S] | web.Response:
    """The request's body as JSON if `sender` (None: not configured) proves it sent it; else the refusal."""
    body = await request.read()
    if sender is None or not _authentic(sender, request, body):
        return refuse(request, "not signed or authorised as configured", body_length=len(body))
    if not is_json(request.content_type):
        return refuse(request, "not application/json", status=415, body_length=len(body))
    try:
        return Signed(sender, body, json_body(body))
    except NotJson:
        return refuse(request, f"{sender.name}: not JSON", status=400, body_length=len(body))
