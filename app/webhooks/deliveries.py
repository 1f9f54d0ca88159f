"""One delivery of a webhook: what it is taken once under, and the time its sender gave it.

Senders retry, and anyone who captured a signed request can send it again. A delivery is taken under
each of its ids (the sender's delivery id, and for a signed body the body's digest: the signature binds
the body, so an exact copy of it is the same delivery whatever its unsigned headers say) by INSERTs
under a unique key, in the transaction of what the delivery does where the caller can: the database
decides which copy acts, on SQLite as on PostgreSQL, across replicas and restarts. A delivery dated by
its sender further from now than `fresh_for` is refused; ids are remembered for `remembered_for`
(a `Ledger` forgets older ones now and then).
The caller owns the transaction; nothing here commits.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import model_validator
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims import Forgetting, insert_once
from app.policy_files import PositiveDuration, StrictModel
from app.webhooks.models import WebhookDelivery

# What a sender's delivery id may look like: GUIDs, ULIDs, Jira's numbers. Anything else is not one.
DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
UNIX_SECONDS = re.compile(r"[0-9]{1,10}(\.[0-9]{1,9})?")  # until 2286


class Remembered(StrictModel):
    """The `deliveries:` section of playbooks/trackers.yml: trackers date nothing, so ids only are kept."""

    remembered_for: PositiveDuration = timedelta(days=7)


class DeliveryRules(Remembered):
    """The `deliveries:` section of playbooks/alerts.yml."""

    fresh_for: PositiveDuration = timedelta(minutes=5)  # Slack's own rule for its signed requests

    @model_validator(mode="after")
    def _remembered_while_fresh(self) -> DeliveryRules:
        if self.remembered_for < self.fresh_for:
            raise ValueError("remembered_for must be at least fresh_for: a copy still fresh would act again")
        return self


class NotJson(Exception):
    """The body is not a JSON document (not UTF-8, not JSON, or nested past what the parser takes)."""


class BadDelivery(Exception):
    """Authenticated, but its delivery id or date is not what the sender sends; the message says which."""


class AlreadyReceived(Exception):
    """A copy of a delivery taken before (a retry, or a replay): raised to roll back what it would do."""


class NotFresh(Exception):
    """Dated by its sender further from now than the rules allow: refused as a replay or a forgery."""


@dataclass(frozen=True)
class Delivery:
    source: str
    ids: tuple[str, ...]  # taken once under each
    sent_at: datetime | None = None  # the sender's own date for it, when it gives one

    def check_fresh(self, rules: DeliveryRules, now: datetime) -> None:
        if self.sent_at is not None and abs(now - self.sent_at) > rules.fresh_for:
            raise NotFresh()


def is_json(content_type: str) -> bool:
    """aiohttp's parsed media type: application/json, or a vendor's application/...+json."""
    return content_type == "application/json" or (content_type.startswith("application/")
                                                  and content_type.endswith("+json"))


def json_body(body: bytes) -> Any:
    """The body as JSON, strictly UTF-8. json.loads raises RecursionError, not ValueError, on deep nesting."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise NotJson() from None


def body_id(body: bytes) -> str:
    return "body:" + hashlib.sha256(body).hexdigest()


def delivery_id(value: object, what: str) -> str:
    """A sender's delivery id as given, if it looks like one."""
    if not isinstance(value, str) or not DELIVERY_ID.fullmatch(value):
        raise BadDelivery(f"{what} is missing or malformed")
    return value


def unix_time(value: str, what: str) -> datetime:
    if not UNIX_SECONDS.fullmatch(value):
        raise BadDelivery(f"{what} is missing or malformed")
    return datetime.fromtimestamp(float(value), UTC)


def iso_time(value: object, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 40 else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadDelivery(f"{what} is missing or malformed")
    return moment.astimezone(UTC)


class Ledger:
    """The deliveries taken from one set of senders, as this process sees them: each taken once (app/claims.py),
    and the ids older than `remembered_for` forgotten now and then (at most every FORGET_EVERY per sender)
    rather than with a DELETE in every request's transaction. A forgetting rolled back with its request is only
    late: the rows wait for the next one, and a copy still fresh is never forgotten (remembered_for is at
    least fresh_for)."""

    def __init__(self, rules: Remembered) -> None:
        self.rules = rules
        self._forgetting = Forgetting()

    async def take(self, session: AsyncSession, delivery: Delivery, *, now: datetime) -> bool:
        """True if no copy of this delivery was taken before: it should act. On False the caller rolls back
        (an id of it may have been inserted before one that was taken)."""
        if self._forgetting.due(delivery.source, now):
            await session.execute(delete(WebhookDelivery).where(
                WebhookDelivery.source == delivery.source,
                WebhookDelivery.received_at < now - self.rules.remembered_for))
        for id_ in delivery.ids:
            if not await insert_once(session, WebhookDelivery, ("source", "delivery_id"),
                                     source=delivery.source, delivery_id=id_, received_at=now):
                return False
        return True
