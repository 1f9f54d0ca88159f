"""Slack's requests over HTTP are verified before anything parses, logs or acts on them.

Slack signs each request with the app's signing secret: `X-Slack-Signature` is `v0=` and the HMAC-SHA256 of
`v0:{X-Slack-Request-Timestamp}:{body}`, and a timestamp more than five minutes from now is a replay. This
middleware checks that (with slack-sdk's `SignatureVerifier`) at the door of /slack/events, on the raw bytes,
before Bolt turns the body into a dict. What fails, or makes the verifier raise (a timestamp that is not a
number, a signature that is not ASCII, a body that is not UTF-8), is refused with a 401 and one bounded log
line (app.ops.refusals), never the body: Bolt's error handler, which answers people through the payload's
`response_url` and ids, only ever sees requests Slack vouched for. Bolt verifies again behind it.

Socket Mode requests never come through here: Slack sends them over the websocket the app opened with its
app token, and Bolt marks them `mode="socket_mode"`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from aiohttp import web
from aiohttp.typedefs import Middleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from app.ops.refusals import refuse

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

WITHIN = 5 * 60  # seconds either side of now a timestamp may be: Slack's own rule against replays
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: int() would take " 1_7e", "١٢" or "+1"
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

# True while a request that passed the check is handled; tasks started meanwhile (listeners) copy it.
_verified: ContextVar[bool] = ContextVar("slack_verified", default=False)


def verified(request: AsyncBoltRequest) -> bool:
    """Whether Slack vouched for this request: its signature was checked at the door, or it came over Socket Mode."""
    return request.mode == "socket_mode" or _verified.get()


def verified_first(path: str, signing_secret: str) -> Middleware:
    """aiohttp middleware: a POST to `path` goes on only with a valid, fresh Slack signature; else a 401."""
    verifier = SignatureVerifier(signing_secret)  # its clock is the wall's: Slack's timestamps are real time

    @web.middleware
    async def verifying(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != path or request.method != "POST":
            return await handler(request)  # the router answers other methods (405) without reading a body
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        # The headers first: a request without a well-formed signature is refused before its body is read.
        if not TIMESTAMP.fullmatch(timestamp):
            return refuse(request, "no timestamp" if not timestamp else "timestamp not a number")
        if not SIGNATURE.fullmatch(signature):
            return refuse(request, "no signature" if not signature else "malformed signature")
        if abs(time.time() - int(timestamp)) > WITHIN:
            return refuse(request, "stale timestamp")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return refuse(request, "body too large", status=413)
        try:
            valid = verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
        except Exception:  # broad on purpose: a verifier that raises did not vouch for the request: fail closed
            valid = False
        if not valid:
            return refuse(request, "bad signature", body_length=len(body))
        token = _verified.set(True)
        try:
            return await handler(request)
        finally:
            _verified.reset(token)

    return verifying
