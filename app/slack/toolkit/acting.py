"""Someone acting on an incident from Slack, as every feature sees them: who they are and how to answer them
(Actor), which incident they mean, what they may see, how a change is shown (one domain call, one
transaction, then the Slack calls that show it, independent ones together), and the one private answer
when something goes wrong."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.db import unreachable
from app.incidents import service
from app.incidents.errors import IncidentError, NoSuchIncident, NotAnIncidentChannel
from app.incidents.models import ChecklistItem, Incident
from app.slack.toolkit import command_line
from app.slack.toolkit.calls import StepFailure, run_steps
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.messages import Message, Messages

log = logging.getLogger(__name__)

Reply = Callable[[Message], Awaitable[Any]]
# Carries out one parsed command for the actor; whatever it returns (a declared incident) is not the caller's.
CommandHandler = Callable[[Any, "Actor"], Awaitable[object]]
PICKER_SIZE = 5  # open incidents offered as buttons to run a command typed outside their channels


@dataclass
class Actor:
    """Who acted (typed a command, pressed a button, submitted a form), where, and how to answer them privately:
    resolved once per request from Slack by app/slack/toolkit/who_acted.py, the listener's `actor`."""

    user_id: str
    channel_id: str | None
    reply: Reply
    is_bot: bool = False  # the bot itself (a health check declared): never invited to its own channel
    trigger_id: str | None = None  # the request's, for what opens a form (/incident review, a button)
    response_url: str | None = None  # a command's or a button's: where a declaration's setup answers later
    incident_id: int | None = None  # the incident named in the command (`/incident update 12 ...`)
    typed: str | None = None  # a slash command's text: typed outside any incident channel, it is offered again
    receipt: int | None = None  # a typed declaration, written down as received (app/inbox/receiving.py)
    replace_message: Reply | None = None  # a button's: an answer taking the place of the message it is on


def answer_to(messages: Messages, error: BaseException, *, what: str, who: str | None, where: str | None) -> Message:
    """The one mapping of an unforeseen failure to an answer (used by Acting.guarded and the Bolt error handlers)."""
    if unreachable(error):
        log.warning("Incident store unreachable for %s in %s (%s): %s", who, where, what, error)
        return messages.render("errors/store_unreachable.j2", what=what)
    reference = uuid.uuid4().hex[:8]
    log.error("Unexpected error (ref %s) for %s in %s", reference, who, where, exc_info=error)
    return messages.render("errors/unexpected.j2", reference=reference)


class Acting:
    """What every feature does around the person who acted; stateless, built from the dependencies."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.db = deps.db
        self.clock = deps.clock
        self.client = deps.client
        self.messages = deps.messages
        self.policy = deps.policy
        self.acks = deps.acks
        self.summary = deps.summary

    async def run(self, handler: CommandHandler, command: Any, actor: Actor) -> None:
        """Carry out a command with its handler; a known problem becomes a private answer."""
        await self.guarded(handler(command, actor), actor, what=command_line.asked_for(command))

    def error_message(self, error: IncidentError, **extra: Any) -> Message:
        return self.messages.render(error.template, error=error, details=error.details,
                                    subcommands=command_line.SUBCOMMANDS, **extra)

    async def guarded(self, work: Awaitable[Any], actor: Actor, *, what: str = "request") -> None:
        """Await the work; whatever goes wrong becomes one private answer to the actor: a known problem
        explained, an unreachable database named with what was not recorded (`what`, a key of
        errors/store_unreachable.j2), and anything else logged with a reference the person can quote
        (never silence, never a stack trace). It starts once the request's own acknowledgement is out."""
        try:
            await self.acks.answered()
            await work
            return
        except IncidentError as error:
            try:
                answer = await self.explain(error, actor)
            except Exception as failure:  # broad on purpose: explaining needed the database, say so
                answer = self.answer_to(failure, what=what, who=actor.user_id, where=actor.channel_id)
        except Exception as error:  # broad on purpose: logged with its traceback by answer_to
            answer = self.answer_to(error, what=what, who=actor.user_id, where=actor.channel_id)
        await actor.reply(answer)

    async def explain(self, error: IncidentError, actor: Actor) -> Message:
        if isinstance(error, NotAnIncidentChannel):
            async with self.db.transaction() as session:
                incidents = await service.open_incidents(session)
            visible = await self.visible_to(actor, incidents)
            picks = [(incident, value) for incident in visible[:PICKER_SIZE]
                     if (value := command_line.for_incident(incident.id, actor.typed or "")) is not None]
            return self.error_message(error, incidents=visible, picks=picks if actor.typed else [], typed=actor.typed)
        return self.error_message(error)

    def answer_to(self, error: BaseException, *, what: str, who: str | None, where: str | None) -> Message:
        return answer_to(self.messages, error, what=what, who=who, where=where)

    async def visible_to(self, actor: Actor, incidents: list[Incident]) -> list[Incident]:
        """Private incidents are listed only to the people in them (their roles, or their channel's members)."""
        private = [incident for incident in incidents if incident.is_private]
        seen = await asyncio.gather(*(self.may_see(actor, incident) for incident in private))  # at once
        hidden = {incident.id for incident, may in zip(private, seen, strict=True) if not may}
        return [incident for incident in incidents if incident.id not in hidden]

    async def may_see(self, actor: Actor, incident: Incident) -> bool:
        if actor.user_id in {incident.declared_by, *incident.role_holders().values()}:
            return True
        if incident.channel_id is None:
            return False
        members = await self.client.conversations_members(channel=incident.channel_id, limit=1000)
        return actor.user_id in members["members"]

    async def incident_here(self, session: Any, actor: Actor) -> Incident:
        """The incident the command is for: the one named by number, else the one whose channel this is."""
        if actor.incident_id is not None:
            incident = await service.find_incident(session, actor.incident_id)
            if incident is None or (incident.is_private and not await self.may_see(actor, incident)):
                raise NoSuchIncident(number=actor.incident_id)
            return incident
        if actor.channel_id is None:
            raise NotAnIncidentChannel()
        return await service.incident_in_channel(session, actor.channel_id)

    def checklist_message(self, incident: Incident, items: list[ChecklistItem]) -> Message:
        return self.messages.blocks("blocks/checklist.yml.j2", incident=incident,
                                    playbook=self.policy.playbook(incident.kind), items=items)

    async def store(self, incident: Incident, events: list[tuple[str, str]], **fields: Any) -> None:
        """Write what Slack gave back (ids, timestamps) onto the stored incident, with timeline events."""
        async with self.db.transaction() as session:
            await service.store_fields(session, incident.id, **fields)
            for name, value in fields.items():
                setattr(incident, name, value)
            now = self.clock.now()
            for kind, text in events:
                service.record(session, incident, kind=kind, actor=None, now=now, text=text)

    async def show_change(self, incident: Incident, actor: Actor, post: Message, **more: Any) -> None:
        """Post the short announcement of a change and bring the living summary up to date."""
        calls = {"post change": self.summary.post(incident.channel_id, post) if incident.channel_id else None,
                 **self.summary.refresh_calls(incident), **more}
        steps = await run_steps(calls)
        await self.record_failures(incident, steps.failures)
        if steps.failures:
            await actor.reply(self.messages.render("steps_failed.j2", incident=incident, failures=steps.failures))
        await self.deps.changed()

    # -- failures -----------------------------------------------------------------------------

    async def record_failures(self, incident: Incident, failures: list[StepFailure]) -> None:
        if failures:
            await self.store(incident, self._failure_events(failures))

    @staticmethod
    def _failure_events(failures: list[StepFailure]) -> list[tuple[str, str]]:
        return [("slack_step_failed", f"{failure.step}: {failure.error}") for failure in failures]
