"""POST /trackers/<name>: the tracker's webhook.

Verify first, fail closed (app/webhooks/signed.py): unsigned (or for a tracker not configured, or a
verifier that raises) is 401, nothing parsed. Then, from the tracker: not JSON 415 (the webhook must be set
to send application/json), not readable or not its payload 400. A delivery is taken once
(app/webhooks/deliveries.py); a copy is answered 200 and does nothing, since a 2xx is what stops Jira's
retries. A finished issue marks its action item done through the `Finisher` (the Slack side shows it).
Every refusal is one bounded log line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from app.clock import Clock
from app.db import Database
from app.ops.refusals import refuse
from app.trackers.webhooks import BadPayload, Webhook
from app.webhooks.deliveries import AlreadyReceived, BadDelivery, Ledger, Remembered
from app.webhooks.signed import signed_json

TRACKERS_ROUTE = "/trackers/{name}"

Finisher = Callable[[str, str], Awaitable[bool]]  # (tracker, key) -> an item was marked done


def add_tracker_routes(app: web.Application, webhook: Webhook | None, finish: Finisher, *, db: Database,
                       clock: Clock, deliveries: Remembered) -> None:
    ledger = Ledger(deliveries)

    async def receive(request: web.Request) -> web.Response:
        named = webhook if webhook is not None and webhook.name == request.match_info["name"] else None
        signed = await signed_json(request, named)
        if isinstance(signed, web.Response):
            return signed
        configured = signed.sender
        try:
            delivery = configured.delivery(request.headers, signed.body)
            keys = configured.finished(signed.payload, request.headers)
        except (BadPayload, BadDelivery) as error:
            return refuse(request, f"{configured.name}: {error}", status=400, body_length=len(signed.body))
        # Taken before it acts, in a transaction of its own: finishing is the Slack side's transaction. Should
        # finishing fail after this commits, the periodic sync still notices the issue finished in the tracker.
        try:
            async with db.transaction() as session:
                if not await ledger.take(session, delivery, now=clock.now()):
                    raise AlreadyReceived()
        except AlreadyReceived:
            return web.json_response({"done": [], "already_received": True})
        done = [key for key in keys if await finish(configured.name, key)]
        return web.json_response({"done": done})

    app.router.add_post(TRACKERS_ROUTE, receive)
