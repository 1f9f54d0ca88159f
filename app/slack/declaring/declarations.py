"""Declaring an incident from Slack: the typed declaration written down as received, the incident stored
(with its channel's name and the due work of setting it up) once the burst of requests it came in has been
answered, the declarer offered the open incident it looks like, or brought into that one's channel."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.exc import IntegrityError

from app.db import unreachable
from app.duework.models import WorkKind
from app.inbox import service as inbox
from app.inbox.receiving import DeclarationsReceived
from app.incidents import service
from app.incidents.declaring import LooksAlike, store_declaration
from app.incidents.errors import NoSuchIncident, UsageError
from app.incidents.models import Incident, Severity
from app.slack.toolkit import command_line
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.messages import Message
from app.slack.toolkit.text import clean

AT_ONCE = 4  # declarations of a burst set up together in Slack
QUIET_LONGEST = 1.0  # seconds a declaration waits for a burst of requests to be answered
NAME_ATTEMPTS = 20


class SettledElsewhere(Exception):
    """Another worker stored this received declaration first (one left unsettled, declared by a sweep)."""


class Declarations:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)
        self.received = DeclarationsReceived(deps.db)  # a /incident declare, written down once it is answered
        self._at_once = asyncio.Semaphore(AT_ONCE)

    async def declare(self, command: command_line.Declare, actor: Actor,
                      alongside: Callable[[Any, Incident], Awaitable[None]] | None = None,
                      set_up_later: bool = False) -> Incident | None:
        """Store the incident, its channel's name and the work of setting it up in Slack, then do that work.

        Nothing is asked of Slack before the incident is stored: the setup is due work (channel_setup.py),
        so a crash or a Slack outage delays the channel but never loses the declaration.
        `alongside` runs in the transaction that stores the incident (a health check claims its
        declaration there, so two replicas never both declare); raising from it stores nothing.
        `set_up_later`: return once it is stored, the setup started in a task of its own (an alert's sender
        has its answer at once; the sweep does the setup if this process stops first)."""
        playbook = self.deps.policy.playbook(command.kind)
        severity = command.severity or (playbook.default_severity if playbook else None)
        if severity is None:
            await self.settle(actor, "refused")
            raise UsageError(subcommand="declare", problem="bad_severity", given="", kinds=[])
        private = command.private or bool(playbook and playbook.private)
        reply_to = {"declarer": actor.user_id, "response_url": actor.response_url, "bot": actor.is_bot}
        look_alike = not actor.is_bot and not command.anyway
        if actor.receipt is not None:
            # Written down already: a burst of requests is answered before their incidents are stored
            # (a declaration from a form or an alert is stored at once, and waits before its setup instead).
            await self.deps.acks.quiet(QUIET_LONGEST)
        try:
            incident = await self._store(command, actor, severity=severity, private=private, look_alike=look_alike,
                                         setup=reply_to, alongside=alongside)
        except SettledElsewhere:
            return None
        except Exception as error:
            if actor.receipt is None or not unreachable(error):
                raise
            # It is written down, so it is not lost: the next sweep declares it once the store is back.
            await actor.reply(self.deps.messages.render("declaration_delayed.j2", command=command))
            return None
        if incident is None:
            return None
        if set_up_later:
            self.deps.acks.start(self._set_up(incident.id), name=f"setting up incident {incident.id}")
            return incident
        await self._set_up(incident.id, quiet=actor.receipt is None)
        return incident

    async def _set_up(self, incident_id: int, *, quiet: bool = True) -> None:
        # A burst of declarations is set up a few at a time, and after the requests still waiting for
        # their answer have had it (bench.declare, bench.alerts). Each incident is already stored.
        if quiet:
            await self.deps.acks.quiet(QUIET_LONGEST)
        async with self._at_once:
            await self.deps.fire_now(incident_id, [WorkKind.SETUP])

    async def _store(self, command: command_line.Declare, actor: Actor, *, severity: Severity, private: bool,
                     look_alike: bool, setup: dict[str, Any],
                     alongside: Callable[[Any, Incident], Awaitable[None]] | None) -> Incident | None:
        """The declaration stored with its received copy settled, in one transaction; None when the declarer
        is offered the open incident it looks like instead."""
        async def settling(session: Any, incident: Incident) -> None:
            if actor.receipt is not None and not await inbox.settle_declaration(
                    session, actor.receipt, outcome="declared", incident_id=incident.id,
                    now=self.deps.clock.now()):
                raise SettledElsewhere()
            if alongside is not None:
                await alongside(session, incident)

        for _ in range(NAME_ATTEMPTS):
            try:
                async with self.deps.db.transaction() as session:
                    return await store_declaration(
                        session, self.deps.policy, title=command.title, severity=severity, impact=command.impact,
                        declared_by=actor.user_id, roles=command.roles, kind=command.kind, private=private,
                        look_alike=look_alike, setup=setup, now=self.deps.clock.now(), alongside=settling,
                        services=command.services)
            except LooksAlike as found:
                async with self.deps.db.transaction() as session:  # the rollback let go of what it had loaded
                    existing = await service.find_incident(session, found.incident_id)
                if existing is None or (existing.is_private and not await self.acting.may_see(actor, existing)):
                    look_alike = False  # an incident they may not see is not offered, nor hinted at
                    continue
                if not await self.settle(actor, "looks_alike"):
                    return None
                await self._ask_instead(actor, self.deps.messages.render(
                    "duplicate_declaration.j2", incident=existing, command=command, now=self.deps.clock.now()))
                return None
            except IntegrityError:  # a declaration in the same minute took the same channel name: next one
                continue
        raise RuntimeError("could not find a free channel name")

    async def _ask_instead(self, actor: Actor, question: Message) -> None:
        """The join-or-declare question takes the place of the "Declaring…" acknowledgement: whether a declaration
        looks like an open incident is known only once it is checked against the store, after the 3 s ack."""
        if actor.response_url:
            response = await AsyncWebhookClient(actor.response_url).send(
                response_type="ephemeral", replace_original=True, **question.as_kwargs())
            if response.status_code < 400:
                return
        await actor.reply(question)

    async def receive(self, actor: Actor) -> None:
        """Write a typed declaration down as received (app/inbox/receiving.py): actor.receipt is its number."""
        actor.receipt = await self.received.write(declared_by=actor.user_id, channel_id=actor.channel_id,
                                                  text=clean(actor.typed or ""), response_url=actor.response_url,
                                                  now=self.deps.clock.now())  # PostgreSQL refuses NUL in text

    async def settle(self, actor: Actor, outcome: str) -> bool:
        """A received declaration dealt with otherwise than by storing it; False if another worker had."""
        if actor.receipt is None:
            return True
        async with self.deps.db.transaction() as session:
            return await inbox.settle_declaration(session, actor.receipt, outcome=outcome, now=self.deps.clock.now())

    async def join(self, actor: Actor, incident_id: int) -> None:
        """The declarer chose the incident already open: bring them into its channel."""
        async with self.deps.db.transaction() as session:
            incident = await service.find_incident(session, incident_id)
        if incident is None or (incident.is_private and not await self.acting.may_see(actor, incident)):
            raise NoSuchIncident(number=incident_id)
        if incident.channel_id:
            await self.deps.summary.invite(incident.channel_id, [actor.user_id])
        await actor.reply(self.deps.messages.render("joined.j2", incident=incident))
