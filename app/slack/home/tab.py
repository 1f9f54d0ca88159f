"""The App Home tab: open incidents (private ones only for the people in them), my incidents and roles, the open
incidents touching services my team owns (playbooks/services.yml: I am in the owning user group or listed among its
people), who is on call now and next, my open action items, and a Declare button. Published when someone opens it,
and drawn again for the people who opened it lately whenever an incident changes (app/home: who they are)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.clock import Clock
from app.db import Database
from app.home import service as viewers
from app.incidents import service
from app.incidents.models import Incident
from app.incidents.policy import Policy
from app.oncall.roster import Roster
from app.reviews import action_items
from app.slack.toolkit.calls import run_steps
from app.slack.toolkit.messages import Messages

log = logging.getLogger(__name__)

# Block Kit allows 100 blocks in a Home tab: the fixed blocks take 10, each list at most its cap plus one
# "…and N more" line, so 10 + (40 + 1) + (20 + 1) + (20 + 1) = 93.
SHOWN_INCIDENTS = 40
SHOWN_ROLES = 20
SHOWN_ITEMS = 20
SHOWN_OWNED = 10  # my team's services' incidents: lines of one section block
MAX_BLOCKS = 100
# Who is drawn again on a change: people who opened the tab this recently, the most recent first, so one
# change costs at most this many views.publish calls (Tier 4: about 100 a minute).
RECENT = timedelta(days=7)
REFRESHED_AT_ONCE = 25
# The owning teams' user groups are read at most this often for the tabs (usergroups.list is Tier 2: about 20 a
# minute, and every change redraws the tabs).
GROUPS_KEPT = timedelta(minutes=1)


class HomeTab:
    """Built before the other dependencies (they carry its `soon`, app/slack/bootstrap.py), from what it reads."""

    def __init__(self, *, db: Database, clock: Clock, client: AsyncWebClient, messages: Messages, policy: Policy,
                 roster: Roster) -> None:
        self.db = db
        self.clock = clock
        self.client = client
        self.messages = messages
        self.policy = policy
        self.roster = roster
        self._drawing: asyncio.Task[None] | None = None
        self._again = False
        self._groups: tuple[datetime, dict[str, set[str]]] | None = None  # when read, and what

    async def soon(self) -> None:
        """Draw the tabs again, in the background: a change never waits for it, and the changes that come
        while a drawing is under way make one more drawing, not one each."""
        if self._drawing is not None and not self._drawing.done():
            self._again = True
            return
        self._drawing = asyncio.create_task(self._draw_until_current())

    async def _draw_until_current(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            try:
                await self.refresh()
            except Exception:  # broad on purpose: cosmetic: the tab is drawn afresh when next opened
                log.warning("Home tabs not redrawn", exc_info=True)

    async def opened(self, user_id: str) -> None:
        async with self.db.transaction() as session:
            await viewers.opened(session, user_id, now=self.clock.now())
        await self.publish([user_id])

    async def refresh(self) -> None:
        """What the tab shows changed: draw it again for the people who looked at it lately. Cosmetic: a
        failure is logged, and the tab is drawn afresh the next time they open it."""
        async with self.db.transaction() as session:
            users = await viewers.recent_viewers(session, since=RECENT, now=self.clock.now(),
                                                 limit=REFRESHED_AT_ONCE)
        if users:
            await self.publish(users)

    async def publish(self, users: list[str]) -> None:
        async with self.db.transaction() as session:
            incidents = await service.open_incidents(session)
            items = {user: await action_items.open_items_of(session, user, limit=SHOWN_ITEMS) for user in users}
        members = await self._private_members(incidents)
        groups = await self._group_members(incidents)
        steps = await run_steps({
            f"publish home {user}": self.client.views_publish(
                user_id=user, view=self.view(user, self._visible(user, incidents, members), *items[user],
                                             groups=groups))
            for user in users})
        for failure in steps.failures:
            log.warning("Home tab not drawn: %s: %s", failure.step, failure.error)

    def view(self, user_id: str, visible: list[Incident], my_items: list[Any], my_items_count: int, *,
             groups: dict[str, set[str]] | None = None) -> dict[str, Any]:
        roles = self.policy.roles
        mine = [(incident, [roles[role].name for role, holder in incident.role_holders().items() if holder == user_id])
                for incident in visible if user_id in {incident.declared_by, *incident.role_holders().values()}]
        owned = self._owned(user_id, visible, groups or {})
        current, upcoming = self.roster.now_and_next(self.clock.now())
        view = self.messages.view(
            "views/home.yml.j2", incidents=visible[:SHOWN_INCIDENTS], open_count=len(visible),
            mine=mine[:SHOWN_ROLES], mine_count=len(mine), current=current, upcoming=upcoming, my_items=my_items,
            my_items_count=my_items_count, owned=owned[:SHOWN_OWNED], owned_count=len(owned))
        assert len(view["blocks"]) <= MAX_BLOCKS, "the caps above keep the Home tab within Slack's limit"
        return view

    def _owned(self, user_id: str, visible: list[Incident], groups: dict[str, set[str]]) -> list[tuple[Incident,
                                                                                                  list[str]]]:
        """The visible open incidents naming services whose owning team has this person, with those services'
        names."""
        found = []
        for incident in visible:
            names = [service.name for key in incident.service_keys
                     if (service := self.policy.services.get(key)) is not None
                     and (user_id in service.owner.users
                          or (service.owner.usergroup and user_id in groups.get(service.owner.usergroup, set())))]
            if names:
                found.append((incident, names))
        return found

    async def _group_members(self, incidents: list[Incident]) -> dict[str, set[str]]:
        """The members of the user groups owning the services open incidents name, by handle and by ID, read
        in one call for everyone drawn (none when no such group is needed). User groups need a paid plan:
        without one (or without the scope), only the people listed in playbooks/services.yml count."""
        wanted = {service.owner.usergroup for incident in incidents for key in incident.service_keys
                  if (service := self.policy.services.get(key)) is not None and service.owner.usergroup}
        if not wanted:
            return {}
        now = self.clock.now()
        if self._groups is not None and now - self._groups[0] < GROUPS_KEPT:
            return self._groups[1]
        try:
            answer = await self.client.usergroups_list(include_users=True)
        except SlackApiError as error:
            log.info("User groups not read for the Home tab: %s", error.response.get("error"))
            self._groups = (now, {})  # a Free plan stays one: not asked again at every change
            return {}
        members: dict[str, set[str]] = {}
        for group in answer["usergroups"]:
            users = set(group.get("users") or [])
            for name in (group.get("id"), group.get("handle"), f"@{group.get('handle')}"):
                if name:
                    members[str(name)] = users
        self._groups = (now, members)
        return members

    async def _private_members(self, incidents: list[Incident]) -> dict[int, set[str]]:
        """Each private incident's channel members, asked once for everyone drawn."""
        members = {}
        for incident in incidents:
            if incident.is_private and incident.channel_id:
                try:
                    answer = await self.client.conversations_members(channel=incident.channel_id, limit=1000)
                except SlackApiError as error:  # shown then only to its declarer and role holders
                    log.warning("Members of %s not read for the Home tab: %s", incident.channel_id,
                                error.response.get("error"))
                    continue
                members[incident.id] = set(answer["members"])
        return members

    @staticmethod
    def _visible(user_id: str, incidents: list[Incident], members: dict[int, set[str]]) -> list[Incident]:
        """toolkit.acting.Acting.visible_to's rule (roles, declarer, channel members), with the members asked once."""
        return [incident for incident in incidents if not incident.is_private
                or user_id in {incident.declared_by, *incident.role_holders().values()}
                or user_id in members.get(incident.id, set())]
