"""What happens in Slack when someone acts on an incident: one domain call, one transaction,
then the Slack calls that show it, independent ones together."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.clock import Clock
from app.db import Database, unreachable
from app.duework import service as duework
from app.duework.models import WorkKind
from app.incidents import deadlines, service
from app.incidents.errors import (
    IncidentError,
    NoSuchIncident,
    NotAnIncidentChannel,
    NotCommander,
    UnknownUser,
)
from app.incidents.models import ChecklistItem, Incident, Role
from app.oncall.roster import Roster
from app.incidents.policy import Policy
from app.reviews.links import ReviewLinks
from app.slack import parsing
from app.slack.acks import Acknowledgements
from app.slack.messages import Message, Messages
from app.slack.steps import StepFailure, run_step, run_steps
from app.slack.surfaces import Surfaces
from app.trackers.issues import Tracker

log = logging.getLogger(__name__)

Reply = Callable[[Message], Awaitable[Any]]
PICKER_SIZE = 5  # open incidents offered as buttons to run a command typed outside their channels


@dataclass
class Actor:
    """Who typed the command, where, and how to answer them privately."""

    user_id: str
    channel_id: str | None
    reply: Reply
    is_bot: bool = False  # the bot itself (a health check declared): never invited to its own channel
    trigger_id: str | None = None  # a slash command's, for commands that open a form (/incident review)
    response_url: str | None = None  # a slash command's: where a declaration's setup answers later
    incident_id: int | None = None  # the incident named in the command (`/incident update 12 ...`)
    typed: str | None = None  # a slash command's text: typed outside any incident channel, it is offered again
    receipt: int | None = None  # a typed declaration, written down as received (app/inbox/receiving.py)


class IncidentFlows:
    def __init__(self, *, db: Database, clock: Clock, policy: Policy, roster: Roster, messages: Messages,
                 client: AsyncWebClient, incidents_channel: str | None) -> None:
        self.db = db
        self.roster = roster
        self.clock = clock
        self.policy = policy
        self.messages = messages
        self.client = client
        self.surfaces = Surfaces(client, messages, policy, incidents_channel)
        # Commands that other features carry out (checklists, comms, reviews), by command type.
        self.handlers: dict[type, Callable[[Any, Actor], Awaitable[None]]] = {}
        self.acks = Acknowledgements()  # app.main serves Slack's endpoint through its middleware
        # Set by the composition root: fire an incident's due work of these kinds now, not at the next sweep
        # (a declaration's setup, a status-page update just approved).
        self.fire_now: Callable[[int, list[WorkKind]], Awaitable[Any]] | None = None
        self.review_links: ReviewLinks | None = None  # set by app.main: where a published review is served
        self.tracker: Tracker | None = None  # set by app.main: where action items are filed (playbooks/trackers.yml)
        self.incidents_channel = incidents_channel
        # Called after every change an incident shows; quick: the Home tabs are drawn again in the background
        # (app/slack/home.py).
        self.changed: list[Callable[[], Awaitable[None]]] = []

    # -- answering people ---------------------------------------------------------------------

    def error_message(self, error: IncidentError, **extra: Any) -> Message:
        return self.messages.render(error.template, error=error, details=error.details,
                                    subcommands=parsing.SUBCOMMANDS, **extra)

    async def run(self, command: parsing.Command, actor: Actor) -> None:
        """Carry out a parsed command; a known problem becomes a private answer."""
        await self.guarded(self._dispatch(command, actor), actor, what=parsing.asked_for(command))

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
            except Exception as failure:  # noqa: BLE001 - explaining needed the database, say so
                answer = self.answer_to(failure, what=what, who=actor.user_id, where=actor.channel_id)
        except Exception as error:  # noqa: BLE001 - logged with its traceback by answer_to
            answer = self.answer_to(error, what=what, who=actor.user_id, where=actor.channel_id)
        await actor.reply(answer)

    async def explain(self, error: IncidentError, actor: Actor) -> Message:
        if isinstance(error, NotAnIncidentChannel):
            async with self.db.transaction() as session:
                incidents = await service.open_incidents(session)
            visible = await self.visible_to(actor, incidents)
            picks = [(incident, value) for incident in visible[:PICKER_SIZE]
                     if (value := parsing.for_incident(incident.id, actor.typed or "")) is not None]
            return self.error_message(error, incidents=visible, picks=picks if actor.typed else [], typed=actor.typed)
        return self.error_message(error)

    def answer_to(self, error: BaseException, *, what: str, who: str | None, where: str | None) -> Message:
        """The one mapping of an unforeseen failure to an answer (used here and by the Bolt error handler)."""
        if unreachable(error):
            log.warning("Incident store unreachable for %s in %s (%s): %s", who, where, what, error)
            return self.messages.render("errors/store_unreachable.j2", what=what)
        reference = uuid.uuid4().hex[:8]
        log.error("Unexpected error (ref %s) for %s in %s", reference, who, where, exc_info=error)
        return self.messages.render("errors/unexpected.j2", reference=reference)

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

    async def _dispatch(self, command: parsing.Command, actor: Actor) -> None:
        match command:
            case parsing.Targeted(incident_id, inner):
                actor.incident_id = incident_id
                await self._dispatch(inner, actor)
            case parsing.Help():
                await actor.reply(self.messages.render("help.j2", plan=self.policy, subcommands=parsing.SUBCOMMANDS))
            case parsing.ListOpen():
                async with self.db.transaction() as session:
                    incidents = await service.open_incidents(session)
                await actor.reply(self.messages.render("list.j2", incidents=await self.visible_to(actor, incidents)))
            case parsing.ShowStatus():
                async with self.db.transaction() as session:
                    incident = await self.incident_here(session, actor)
                await actor.reply(self.messages.render("status.j2", **self.surfaces.context(incident)))
            case parsing.Update():
                await self.post_update(command, actor)
            case parsing.ChangeSeverity():
                await self.change_severity(command, actor)
            case parsing.AssignRole():
                await self.assign_role(command, actor)
            case parsing.Note():
                async with self.db.transaction() as session:
                    incident = await self.incident_here(session, actor)
                    service.add_note(session, incident, command.text, author=actor.user_id, now=self.clock.now())
                await actor.reply(self.messages.render("note_added.j2", incident=incident, note=command.text))
            case parsing.Resolve():
                await self.resolve(command, actor)
            case parsing.OnCall():
                current, upcoming = self.roster.now_and_next(self.clock.now())
                await actor.reply(self.messages.render("oncall.j2", current=current, upcoming=upcoming))
            case _ if type(command) in self.handlers:
                await self.handlers[type(command)](command, actor)
            case _:
                raise AssertionError(f"unhandled command {command!r}")

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
            stored = await service.get_incident(session, incident.id)
            for name, value in fields.items():
                setattr(stored, name, value)
                setattr(incident, name, value)
            now = self.clock.now()
            for kind, text in events:
                service.record(session, stored, kind=kind, actor=None, now=now, text=text)

    # -- changing an incident -----------------------------------------------------------------

    async def post_update(self, command: parsing.Update, actor: Actor) -> None:
        async with self.db.transaction() as session:
            incident = await self.incident_here(session, actor)
            service.post_status_update(session, incident, command.update, author=actor.user_id,
                                       now=self.clock.now())
            await deadlines.update_posted(session, incident, self.policy, by=actor.user_id, now=self.clock.now())
            answered_reminder, incident.reminder_ts = incident.reminder_ts, None
        post = self.messages.render("status_update.j2", **self.surfaces.context(incident, update=command.update))
        more = {}
        if answered_reminder and incident.channel_id:
            answered = self.messages.render("reminder_answered.j2", **self.surfaces.context(incident))
            more["mark reminder answered"] = self.client.chat_update(
                channel=incident.channel_id, ts=answered_reminder, **answered.as_kwargs())
        await self.show_change(incident, actor, post, **more)

    async def change_severity(self, command: parsing.ChangeSeverity, actor: Actor) -> None:
        async with self.db.transaction() as session:
            incident = await self.incident_here(session, actor)
            previous = await service.change_severity(session, incident, command.severity, actor=actor.user_id,
                                                     now=self.clock.now())
            await deadlines.plan_clock(session, incident, self.policy, now=self.clock.now(),
                                       page=command.severity < previous)
        post = self.messages.render("severity_changed.j2",
                                    **self.surfaces.context(incident, previous_severity=previous, actor=actor.user_id))
        await self.show_change(incident, actor, post)

    async def assign_role(self, command: parsing.AssignRole, actor: Actor) -> None:
        async with self.db.transaction() as session:
            incident = await self.incident_here(session, actor)
        await self._check_person(command.user_id, command.role)
        async with self.db.transaction() as session:
            incident = await self.incident_here(session, actor)
            previous = await service.hand_over_role(session, incident, command.role, command.user_id,
                                                    actor=actor.user_id, now=self.clock.now())
            if command.role is Role.IC and command.user_id == actor.user_id:
                await deadlines.acknowledge(session, incident, by=actor.user_id, now=self.clock.now(),
                                            how="took the IC role")
            # The invitation and the duties DM are due work: a Slack outage delays them, never loses them.
            await duework.plan(session, incident.id, WorkKind.ROLE_DUTIES, self.clock.now(), now=self.clock.now(),
                               key=f"{command.role.value}:{command.user_id}",
                               payload={"role": command.role.value, "holder": command.user_id,
                                        "previous": previous, "actor": actor.user_id})
        context = self.surfaces.context(incident, role=self.policy.roles[command.role], holder=command.user_id,
                                        previous_holder=previous, actor=actor.user_id)
        await self.show_change(incident, actor, self.messages.render("role_assigned.j2", **context))
        if self.fire_now is not None:
            await self.fire_now(incident.id, [WorkKind.ROLE_DUTIES])

    async def resolve(self, command: parsing.Resolve, actor: Actor) -> None:
        async with self.db.transaction() as session:
            incident = await self.incident_here(session, actor)
            await service.resolve_incident(session, incident, root_cause=command.root_cause,
                                           resolution=command.resolution, actor=actor.user_id, now=self.clock.now())
            await deadlines.stop_clock(session, incident, self.policy, now=self.clock.now())
        await self.show_change(incident, actor, self.messages.render("resolved.j2", **self.surfaces.context(incident)))

    async def acknowledge(self, actor: Actor) -> None:
        """The IC pressed Acknowledge on the kickoff."""
        async with self.db.transaction() as session:
            incident = await self.incident_here(session, actor)
            if incident.commander != actor.user_id:
                raise NotCommander(commander=incident.commander)
            await deadlines.acknowledge(session, incident, by=actor.user_id, now=self.clock.now(),
                                        how="pressed Acknowledge", refuse=True)
        await self.show_change(incident, actor, self.messages.render(
            "acknowledged.j2", **self.surfaces.context(incident, actor=actor.user_id)))

    async def snooze(self, actor: Actor, minutes: int, reminder_ts: str | None) -> None:
        """Someone pressed Snooze on an update reminder."""
        async with self.db.transaction() as session:
            incident = await self.incident_here(session, actor)
            until = await deadlines.snooze_reminder(session, incident, timedelta(minutes=minutes),
                                                    reminder_ts=reminder_ts, by=actor.user_id, now=self.clock.now())
        snoozed = self.messages.render("reminder_snoozed.j2", **self.surfaces.context(
            incident, actor=actor.user_id, until=until))
        if reminder_ts and incident.channel_id:
            steps = await run_step("mark reminder snoozed", self.client.chat_update(
                channel=incident.channel_id, ts=reminder_ts, **snoozed.as_kwargs()))
            await self.record_failures(incident, steps.failures)

    async def _check_person(self, user_id: str, role: Role) -> None:
        """A role goes to a real, active person in this workspace."""
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "users_not_found"):
                raise UnknownUser(user=user_id, role=role.value, inactive=False) from None
            raise
        person = response["user"]
        if person.get("deleted") or person.get("is_bot"):
            raise UnknownUser(user=user_id, role=role.value, inactive=True)

    async def show_change(self, incident: Incident, actor: Actor, post: Message, **more: Any) -> None:
        """Post the short announcement of a change and bring the living summary up to date."""
        calls = {"post change": self.surfaces.post(incident.channel_id, post) if incident.channel_id else None,
                 **self.surfaces.refresh_calls(incident), **more}
        steps = await run_steps(calls)
        await self.record_failures(incident, steps.failures)
        if steps.failures:
            await actor.reply(self.messages.render("steps_failed.j2", incident=incident, failures=steps.failures))
        for changed in self.changed:
            await changed()

    # -- failures -----------------------------------------------------------------------------

    async def record_failures(self, incident: Incident, failures: list[StepFailure]) -> None:
        if failures:
            await self.store(incident, self._failure_events(failures))

    @staticmethod
    def _failure_events(failures: list[StepFailure]) -> list[tuple[str, str]]:
        return [("slack_step_failed", f"{failure.step}: {failure.error}") for failure in failures]
