"""POST /trackers/<name>: the tracker's webhook.

Verify first, fail closed: unsigned (or for a tracker not configured, or a verifier that raises) is 401,
nothing read. Then, from the tracker: not JSON 415 (the webhook must be set to send application/json),
not readable or not its payload 400. A delivery is taken once (app/webhooks/deliveries.py); a copy is
answered 200 and does nothing, since a 2xx is what stops Jira's retries. A finished issue marks its action
item done through the `Finisher` (the Slack side shows it). Every refusal is one bounded log line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from app.clock import Clock
from app.db import Database
from app.ops.refusals import refuse
from app.trackers.webhooks import BadPayload, Webhook
from app.webhooks.deliveries import AlreadyReceived, BadDelivery, Ledger, NotJson, Remembered, is_json, json_body

TRACKERS_ROUTE = "/trackers/{name}"

Finisher = Callable[[str, str], Awaitable[bool]]  # (tracker, key) -> an item was marked done


def _authentic(webhook: Webhook | None, request: web.Request, body: bytes) -> bool:
    if webhook is None or webhook.name != request.match_info["name"]:
        return False
    try:
        return webhook.authentic(request.headers, body)
    except Exception:  # noqa: BLE001 - a verifier that raises has verified nothing: a refusal, not a 500
        return False


def add_tracker_routes(app: web.Application, webhook: Webhook | None, finish: Finisher, *, db: Database,
                       clock: Clock, deliveries: Remembered) -> None:
    ledger = Ledger(deliveries)

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        if webhook is None or not _authentic(webhook, request, body):
            return refuse(request, "not signed as configured", body_length=len(body))
        if not is_json(request.content_type):
            return refuse(request, "not application/json", status=415, body_length=len(body))
        try:
            payload = json_body(body)
            delivery = webhook.delivery(request.headers, body)
            keys = webhook.finished(payload, request.headers)
        except NotJson:
            return refuse(request, f"{webhook.name}: not JSON", status=400, body_length=len(body))
        except (BadPayload, BadDelivery) as error:
            return refuse(request, f"{webhook.name}: {error}", status=400, body_length=len(body))
        # Taken before it acts, in a transaction of its own: finishing is the Slack side's transaction. Should
        # finishing fail after this commits, the periodic sync still notices the issue finished in the tracker.
        try:
            async with db.transaction() as session:
                if not await ledger.take(session, delivery, now=clock.now()):
                    raise AlreadyReceived()
        except AlreadyReceived:
            return web.json_response({"done": [], "already_received": True})
        done = [key for key in keys if await finish(webhook.name, key)]
        return web.json_response({"done": done})

    app.router.add_post(TRACKERS_ROUTE, receive)
