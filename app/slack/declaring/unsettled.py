"""Declarations the bot wrote down and answered "Declaring…" but never stored, because it stopped (a crash,
a kill, a deploy) or the incident store went away: each sweep declares those received longer than a lease
ago (on SQLite, where one process runs, also all those received before this process started), once (the storing
transaction settles the received copy with a compare-and-set, so a replica or the original request that gets there
first wins and the others let go)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from app.inbox import service as inbox
from app.inbox.models import ReceivedDeclaration
from app.incidents.errors import UsageError
from app.slack.declaring.declarations import Declarations
from app.slack.toolkit import command_line
from app.slack.toolkit.acting import Acting, Actor, Reply
from app.slack.toolkit.messages import Message

log = logging.getLogger(__name__)

AT_ONCE = 20  # declared per sweep; the next sweep takes the rest
FORGOTTEN_AFTER = timedelta(days=1)  # settled copies are kept a day, for the record


class UnsettledDeclarations:
    def __init__(self, declarations: Declarations) -> None:
        self.declarations = declarations
        self.deps = deps = declarations.deps
        self.acting = Acting(deps)
        self.after = deps.lease  # how long a received declaration may stay unsettled before a sweep takes it
        # The single-process store (SQLite): what was received before this process started is nobody's, at once.
        self.free_before: datetime | None = deps.clock.now() if deps.single_process else None

    async def declare(self) -> int:
        """Declare what was received and never settled; returns how many were taken up."""
        now = self.deps.clock.now()
        async with self.deps.db.transaction() as session:
            await inbox.forget_settled_declarations(session, before=now - FORGOTTEN_AFTER)
            received_before = now - self.after
            if self.free_before is not None:
                received_before = max(received_before, self.free_before)
            received = await inbox.unsettled_declarations(session, received_before=received_before, limit=AT_ONCE)
        for declaration in received:
            log.info("Declaring what %s typed at %s, received but never stored", declaration.declared_by,
                     declaration.received_at.isoformat())
            actor = Actor(user_id=declaration.declared_by, channel_id=declaration.channel_id,
                          reply=self._answer(declaration), response_url=declaration.response_url,
                          typed=declaration.text, receipt=declaration.id)
            try:
                command = command_line.parse_command(declaration.text, kinds=self.deps.policy.playbooks.keys(),
                                                     services=self.deps.policy.services.keys())
            except UsageError as error:  # the playbooks changed since: it is no longer a declaration
                await self.declarations.settle(actor, "refused")
                await actor.reply(self.acting.error_message(error))
                continue
            if not isinstance(command, command_line.Declare):
                await self.declarations.settle(actor, "refused")
                continue
            await self.acting.run(self.declarations.declare, command, actor)
        return len(received)

    def _answer(self, declaration: ReceivedDeclaration) -> Reply:
        async def reply(message: Message) -> None:
            await self.deps.summary.tell(message, response_url=declaration.response_url,
                                           user_id=declaration.declared_by)
        return reply
