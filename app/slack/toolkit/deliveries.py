"""Events API deliveries take effect once.

Slack retries an event it did not see acknowledged within 3 seconds (X-Slack-Retry-Num, X-Slack-Retry-Reason),
and with several replicas behind a load balancer a retry may reach another process. Bolt does not
deduplicate, so every event listener claims the event_id in the database first (an INSERT under the primary key:
app/inbox, app/claims.py; the process's one `deps.event_claims`, which forgets day-old ids at most once an hour);
a delivery that loses the claim is acknowledged and dropped. It is a listener middleware
(`@app.event(..., middleware=[once_per_event(deps)])`), not a global one, so that commands and buttons
do not pay for it.

The claim is committed before the listener runs: a process that dies between the two loses that one
event rather than acting on it twice. Every effect here (a timeline line, an ephemeral summary, a Home
tab) is better missed once than doubled, and App Home is published again the next time it opens.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

from app.slack.toolkit.deps import Deps

log = logging.getLogger(__name__)


Middleware = Callable[[dict[str, Any], Callable[[], Awaitable[BoltResponse]]], Awaitable[BoltResponse]]


def once_per_event(deps: Deps) -> Middleware:
    async def claimed(body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return await next()
        async with deps.db.transaction() as session:
            first = await deps.event_claims.claim(session, event_id=str(event_id), now=deps.clock.now())
        if not first:
            log.info("Event %s (%s) was delivered before: acknowledged, not acted on again", event_id,
                     (body.get("event") or {}).get("type"))
            return BoltResponse(status=200, body="")
        return await next()

    return claimed
