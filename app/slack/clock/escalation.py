"""Escalation to management (playbooks/oncall.yml `management`): a DM to each manager and a post in the
incident channel when an incident runs longer than its severity allows."""

from __future__ import annotations

import asyncio
from datetime import datetime

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents.models import Incident
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.people import Group, find_people, read_group
from app.slack.toolkit.posting import post_once


class Escalation:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """ESCALATION work."""
        client, roster = self.deps.client, self.deps.roster
        listed = await find_people(client, attempt, roster.management_users)
        group = (await read_group(client, attempt, roster.management_group)
                 if roster.management_group else None)
        managers = list(dict.fromkeys([*listed, *(group.members if group else [])]))
        context = self.deps.summary.context(incident, managers=managers, group=group, now=now,
                                            failures=list(attempt.failures))
        dm = self.deps.messages.render("escalation_dm.j2", **context)
        steps = [post_once(client, attempt, f"dm {manager}", manager, dm) for manager in managers]
        if incident.channel_id:
            steps.append(post_once(client, attempt, "post", incident.channel_id,
                                   self.deps.messages.render("escalated.j2", **context)))
        await asyncio.gather(*steps)
        return Fired(events=[("escalated", f"Escalated to {attempt.work.key or 'management'}: "
                                           f"{_told(managers, group)}")])


def _told(managers: list[str], group: Group | None) -> str:
    names = [*managers]
    if group and group.mention_id and not group.members:
        names.append(f"the {group.name} group")
    return ", ".join(names) or "nobody (no management configured in playbooks/oncall.yml)"
