"""Setting up a declared incident in Slack, as due work: the channel (created, or adopted after an
interruption), the people invited, the topic, the pinned kickoff, the announcement, the playbook's
checklist, and telling the declarer. Each step is done once and known by what is recorded, so a
restart or a retry finishes the declaration instead of starting it again; while Slack refuses, it
goes on trying, and says so, and never asks anyone to declare again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents import affected, channels, service
from app.incidents import checklist as checklists
from app.incidents.models import Incident, Role
from app.slack.toolkit.acting import Acting
from app.slack.toolkit.bookmarks import ChannelBookmarks
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.messages import Message
from app.slack.toolkit.owners import Owners, read_teams
from app.slack.toolkit.people import find_people
from app.slack.toolkit.posting import post_once

log = logging.getLogger(__name__)
NAME_PROBES = 20  # names taken by channels the bot did not make, tried in one attempt (the next goes on)


class ChannelSetup:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)
        self.client = deps.client
        self.bookmarks = ChannelBookmarks(deps)

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        summary = self.deps.summary
        await self._bring_in_leads(attempt, incident)
        # The owning teams of the services named at declaration are read while the channel is made (they need
        # no channel), each at once: the kickoff waits for no round trip of theirs.
        created, owners = await asyncio.gather(
            attempt.once("create channel", lambda: self._create(incident), recover=lambda: self._find(incident),
                         retry=True),
            self._owners(attempt, incident))
        if created is None:
            await self._announce(attempt, incident)
            failure = next(f.error for f in attempt.failures if f.step == "create channel")
            await attempt.once("tell delay", lambda: self._tell(attempt, self.deps.messages.render(
                "declare_delayed.j2", incident=incident, failure=failure)), retry=False)
            return Fired()
        if incident.channel_id != created["id"]:
            # Stored at once: commands typed in the channel work from the moment people arrive.
            await self.acting.store(incident, [("channel_created", f"#{created['name']}")],
                                   channel_id=created["id"], channel_name=created["name"])
        channel = created["id"]
        declarer = attempt.work.payload.get("declarer")
        people = sorted({*([declarer] if declarer and not attempt.work.payload.get("bot") else []),
                         *incident.role_holders().values()})
        # The owning teams of the services named at declaration, in the same invitation: one Web API call
        # per team that is a user group. A service named later has its own due work (SERVICE_OWNERS).
        owners_ready = all(owned.complete for owned in owners) and attempt.done("owners invited") is None
        team = sorted({person for owned in owners for person in owned.members} - set(people))
        with_owners = owners_ready and bool(team) and not attempt.done("invite")
        if with_owners:
            people = sorted({*people, *team})
        playbook = self.deps.policy.playbook(incident.kind)
        items = []
        if playbook:  # the checklist is the playbook's: without one, none is posted and none is read
            async with self.deps.db.transaction() as session:
                items = await checklists.checklist(session, incident)
        kickoff, _, _, _, _ = await asyncio.gather(
            post_once(self.client, attempt, "post kickoff", channel, summary.kickoff(incident)),
            attempt.once("invite", lambda: self._invite(channel, people)) if people else _nothing(),
            attempt.once("set topic", lambda: self._set_topic(channel, incident)),
            self._announce(attempt, incident),
            post_once(self.client, attempt, "post checklist", channel,
                      self.acting.checklist_message(incident, items)) if playbook and items else _nothing(),
        )
        if kickoff:
            await attempt.once("pin kickoff", lambda: self._pin(channel, kickoff["ts"]))
        await self._record(attempt, incident)
        # Told to whoever asked: the declarer, or whoever reopened it (whose IC may be someone else).
        await attempt.once("tell declarer", lambda: self._tell(attempt, self.deps.messages.render(
            "declared.j2", **summary.context(incident, answered=declarer,
                                              reopened=bool(attempt.work.payload.get("reopened_by")))
        )), retry=False)
        await self.bookmarks.add_at_setup(attempt, incident, channel)  # after the declarer hears: nobody waits
        if with_owners and attempt.results.get("invite"):
            attempt.results["owners invited"] = team  # who, so a service named later does not invite them again
        elif owners_ready and (attempt.done("invite") or not people):
            # Their group was read after the others were invited (Slack refused it at first): on their own.
            await attempt.once("owners invited", lambda: self._invite_owners(channel, team))
        await self.deps.changed()  # a new incident on the Home tabs
        if attempt.failures:
            await attempt.once("tell failures", lambda: self._tell(attempt, self.deps.messages.render(
                "steps_failed.j2", incident=incident, failures=attempt.failures)), retry=False)
        events = [("invited", ", ".join(people))] if attempt.results.get("invite") else []
        if owners and "owners invited" in attempt.results:
            events.append(("owners_invited", self.deps.messages.text(
                "owners_invited.txt.j2", owners=owners, catalog=self.deps.policy.services)))
        # Services named while the channel was made: their owners' invitations are due at once, written with this
        # outcome (the invitations made here, which theirs leave out, are on record by then).
        return Fired(events=events, also=[self._owners_due_now(incident.id)])

    def _owners_due_now(self, incident_id: int) -> Callable[[AsyncSession], Awaitable[None]]:
        async def write(session: AsyncSession) -> None:
            await affected.owners_due_now(session, incident_id, now=self.deps.clock.now())

        return write

    # -- the steps ----------------------------------------------------------------------------

    async def _bring_in_leads(self, attempt: Attempt, incident: Incident) -> None:
        """A private incident (and a playbook that needs one) gets its lead from playbooks/oncall.yml."""
        playbook = self.deps.policy.playbook(incident.kind)
        needed = set(playbook.roles) if playbook else set()
        if incident.is_private:
            needed.add(Role.SECURITY)
        leads = self.deps.roster.leads
        missing = [role for role in sorted(needed) if role is not Role.IC and incident.holder(role) is None
                   and leads.get(role.value)]
        for role in missing:
            found = await find_people(self.client, attempt, [leads[role.value]])
            if not found:
                continue
            async with self.deps.db.transaction() as session:
                stored = await service.get_incident(session, incident.id)
                if stored.holder(role) is None:
                    service.assign_role(session, stored, role, found[0], actor=incident.declared_by,
                                        now=self.deps.clock.now())
            incident.roles = stored.roles

    async def _owners(self, attempt: Attempt, incident: Incident) -> list[Owners]:
        if not incident.services:
            # Named at declaration means named when this work was claimed (its incident read then): one named since
            # came with its own invitation (affected.add_services), so there is nothing to look up.
            return []
        async with self.deps.db.transaction() as session:
            keys = await affected.named_without_own_invitation(session, incident.id)
        if incident.is_private:  # its channel is for the people the incident needs: said, never read or invited
            return [Owners(key, missing="private") for key in keys if key in self.deps.policy.services]
        return await read_teams(self.client, attempt,
                                [service for key in keys if (service := self.deps.policy.services.get(key))])

    async def _create(self, incident: Incident) -> dict[str, str]:
        """Create the channel under the stored name; a name held by a channel the bot did not make (an
        archived one, someone else's) moves the incident on to the next free name."""
        assert incident.channel_name
        name = incident.channel_name
        for _ in range(NAME_PROBES):
            try:
                response = await self.client.conversations_create(name=name, is_private=incident.is_private)
                return {"id": response["channel"]["id"], "name": response["channel"]["name"]}
            except SlackApiError as error:
                if error.response.get("error") != "name_taken":
                    raise
            name = await self._next_name(incident, taken=name)
        raise RuntimeError(f"{NAME_PROBES} channel names in a row were taken")

    async def _next_name(self, incident: Incident, *, taken: str) -> str:
        while True:
            try:
                async with self.deps.db.transaction() as session:
                    name = await channels.next_free_name(session, incident, after=taken)
                    await session.execute(update(Incident).where(Incident.id == incident.id)
                                          .values(channel_name=name))
            except IntegrityError:  # another declaration took that name a moment ago
                continue
            incident.channel_name = name
            return name

    async def _find(self, incident: Incident) -> dict[str, str] | None:
        """The channel an interrupted attempt created under the stored name, if it did."""
        cursor = None
        while True:
            page = await self.client.conversations_list(types="public_channel,private_channel",
                                                        exclude_archived=True, limit=1000, cursor=cursor)
            for channel in page["channels"]:
                if channel["name"] == incident.channel_name and channel.get("is_member"):
                    return {"id": channel["id"], "name": channel["name"]}
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    async def _invite(self, channel: str, people: list[str]) -> bool:
        await self.deps.summary.invite(channel, people)
        return True

    async def _invite_owners(self, channel: str, people: list[str]) -> list[str]:
        if people:
            await self.deps.summary.invite(channel, people)
        return people

    async def _set_topic(self, channel: str, incident: Incident) -> bool:
        await self.client.conversations_setTopic(channel=channel, topic=self.deps.summary.topic(incident))
        return True

    async def _pin(self, channel: str, ts: str) -> bool:
        try:
            await self.client.pins_add(channel=channel, timestamp=ts)
        except SlackApiError as error:
            if error.response.get("error") != "already_pinned":
                raise
        return True

    async def _announce(self, attempt: Attempt, incident: Incident) -> None:
        """The one announcement; posted before the channel exists, it is brought up to date once it does."""
        reopened_by = attempt.work.payload.get("reopened_by")
        if reopened_by and incident.announcement_channel_id and incident.announcement_ts:
            # Reopened in a new channel: the announcement made when it was declared says so; no second one.
            first = {"channel": incident.announcement_channel_id, "ts": incident.announcement_ts}
            await attempt.once("announcement reopened", lambda: self._edit(first, self.deps.summary.announcement(
                incident)))
            return
        where = self.deps.incidents_channel
        if not where:
            return
        earlier = attempt.done("announce")
        posted = await post_once(self.client, attempt, "announce", where,
                                 self.deps.summary.announcement(incident))
        if earlier and incident.channel_id and not attempt.done("announcement linked"):
            await attempt.once("announcement linked", lambda: self._edit(earlier, self.deps.summary.announcement(
                incident)))
        elif posted and incident.channel_id:
            attempt.results["announcement linked"] = True

    async def _edit(self, posted: dict[str, str], message: Message) -> bool:
        await self.client.chat_update(channel=posted["channel"], ts=posted["ts"], **message.as_kwargs())
        return True

    async def _tell(self, attempt: Attempt, message: Message) -> bool:
        """The declarer's private answer: through the command's response_url, or a DM after a form."""
        payload = attempt.work.payload
        declarer = None if payload.get("bot") else payload.get("declarer")
        if not await self.deps.summary.tell(message, response_url=payload.get("response_url"), user_id=declarer):
            # Not its words: they quote the title, and a private incident's title stays out of the log.
            log.info("Declaration of incident %s: nobody to give its private answer to", attempt.work.incident_id)
        return True

    async def _record(self, attempt: Attempt, incident: Incident) -> None:
        """What Slack gave back (the kickoff, the announcement, the checklist), onto the stored incident."""
        fields: dict[str, Any] = {}
        if kickoff := attempt.done("post kickoff"):
            fields["kickoff_ts"] = kickoff["ts"]
        announcement = attempt.done("announce")
        if announcement:
            fields.update(announcement_channel_id=announcement["channel"], announcement_ts=announcement["ts"])
        if checklist := attempt.done("post checklist"):
            fields["checklist_ts"] = checklist["ts"]
        events = [("announced", announcement["channel"])] if "announce" in attempt.results and announcement else []
        if fields:
            await self.acting.store(incident, events, **fields)


async def _nothing() -> None:
    return None
