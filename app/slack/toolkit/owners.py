"""A service's owning team (playbooks/services.yml) as the people to invite to an incident's channel, read as a
step of due work: one Web API call per team that is a user group (services of one team share it), none for
people listed by ID.

A group given by ID (S0123ABCD) is read with `usergroups.users.list`; one given by handle with
`usergroups.list` (include_users), which finds it and its members in the same call. Either needs
`usergroups:read` and a paid plan: on a Free workspace Slack answers `plan_upgrade_required`, which is
said on the timeline (`missing`) while the listed people are still invited. A failure that may pass
(rate limits, Slack's 5xx) stays on the attempt, so the step is tried again; the others are not.
A private incident's channel is for the people it needs: no owning team is read or invited, and the
timeline says so (`missing` "private").
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.catalog.services import Service
from app.duework.attempt import Attempt
from app.slack.toolkit.failures import classify
from app.slack.toolkit.people import GROUP_ID, find_people

# What Slack answers when the group cannot be read for good: said on the timeline, never retried. A Free plan is
# `plan_upgrade_required` from Slack today, `upgrade_require` in its OpenAPI spec: both are "a paid plan".
PAID_PLAN_NEEDED = frozenset({"plan_upgrade_required", "upgrade_require"})
READ_TEAM = "read team "  # + the group: the step that reads it
GROUP_GONE = PAID_PLAN_NEEDED | {"no_such_subteam", "no_such_group", "subteam_not_found", "no_permission",
                                 "missing_scope", "not_allowed_token_type"}


@dataclass
class Owners:
    """The people of one service's owning team, and why its group could not be read (None: it was)."""

    service: str
    members: list[str] = field(default_factory=list)
    missing: str | None = None
    complete: bool = True  # False: a read failed in a way that may pass, so the team is read again later


async def read_owners(client: AsyncWebClient, attempt: Attempt, service: Service) -> Owners:
    """The owning team's people, as a step of `attempt`; a transient failure leaves it on the attempt (the
    members found so far are still returned)."""
    return (await read_teams(client, attempt, [service]))[0]


async def read_teams(client: AsyncWebClient, attempt: Attempt, services: Sequence[Service]) -> list[Owners]:
    """The owning teams of these services, in their order. Each user group is read once, as the step
    `read team <group>` (services of one team share the call), and the groups at once."""
    groups = list(dict.fromkeys(service.owner.usergroup for service in services if service.owner.usergroup))
    failed_before = len(attempt.failures)
    read = await asyncio.gather(*(attempt.once(f"{READ_TEAM}{group}", partial(_read_group, client, group))
                                  for group in groups))
    found = dict(zip(groups, read, strict=True))
    unread = {failure.step[len(READ_TEAM):] for failure in attempt.failures[failed_before:]
              if failure.step.startswith(READ_TEAM) and failure.problem.transient}
    teams = []
    for service in services:
        owners, group = Owners(service.key), service.owner.usergroup
        if group and (members := found[group]) is not None:
            owners.members.extend(members.get("users") or [])
            owners.missing = members.get("missing")
        looked_up = len(attempt.failures)
        for person in await find_people(client, attempt, service.owner.users):
            if person not in owners.members:
                owners.members.append(person)
        owners.complete = group not in unread and not any(f.problem.transient for f in attempt.failures[looked_up:])
        teams.append(owners)
    return teams


async def _read_group(client: AsyncWebClient, group: str) -> dict[str, Any]:
    """{"users": [...]} for the group, or {"missing": <Slack's error>} when it cannot be read for good."""
    try:
        if GROUP_ID.match(group):
            users = (await client.usergroups_users_list(usergroup=group))["users"]
            return {"users": list(users or [])}
        handle = group.lstrip("@")
        groups = (await client.usergroups_list(include_users=True))["usergroups"]
        match = next((g for g in groups if g.get("handle") == handle), None)
        if match is None:
            return {"missing": "no_such_group"}
        return {"users": list(match.get("users") or [])}
    except SlackApiError as error:
        problem = classify(error)
        code = str(error.response.get("error"))
        if problem is not None and not problem.transient and code in GROUP_GONE:
            return {"missing": "plan_upgrade_required" if code in PAID_PLAN_NEEDED else code}
        raise
