"""Turning the people named in playbooks (Slack IDs, e-mails, user groups) into Slack user IDs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TypedDict

from slack_sdk.web.async_client import AsyncWebClient

from app.duework.attempt import Attempt, Problem

USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
GROUP_ID = re.compile(r"^S[A-Z0-9]+$")


async def resolve_people(client: AsyncWebClient, people: Iterable[str]) -> list[str]:
    """User IDs for IDs and e-mail addresses, in order, without repeats."""
    resolved: list[str] = []
    for person in people:
        user_id = person if USER_ID.match(person) else (
            await client.users_lookupByEmail(email=person))["user"]["id"]
        if user_id not in resolved:
            resolved.append(user_id)
    return resolved


async def find_people(client: AsyncWebClient, attempt: Attempt, people: Iterable[str]) -> list[str]:
    """As resolve_people, as steps of due work: someone who cannot be found is reported and skipped."""
    found: list[str] = []
    for person in people:
        if USER_ID.match(person):
            user_id: str | None = person
        else:
            user_id = await attempt.once(f"find {person}", partial(_lookup, client, person))
        if user_id and user_id not in found:
            found.append(user_id)
    return found


async def _lookup(client: AsyncWebClient, email: str) -> str:
    return str((await client.users_lookupByEmail(email=email))["user"]["id"])


@dataclass
class Group:
    """A user group as an escalation reaches it: a mention for the channel, members to message."""

    name: str
    mention_id: str | None = None
    members: list[str] = field(default_factory=list)


async def read_group(client: AsyncWebClient, attempt: Attempt, group: str) -> Group:
    """A group given by ID (S0123) is mentioned as it is: Slack notifies its members, nothing is read.
    One given by handle is looked up (user groups need a paid plan and usergroups:read); when that
    fails, the failure is on the attempt and the group is left out, never the rest of the work."""
    if GROUP_ID.match(group):
        return Group(group, mention_id=group)
    handle = group.lstrip("@")
    found = await attempt.once(f"read group {handle}", lambda: _group_by_handle(client, handle))
    if found is None:
        return Group(handle)
    if not found:
        attempt.fail(f"read group {handle}", Problem("no_such_group", transient=False))
        return Group(handle)
    return Group(handle, mention_id=found["id"], members=list(found["users"]))


class _FoundGroup(TypedDict, total=False):
    """A group found by its handle, as the step records it: empty when there is none."""

    id: str
    users: list[str]


async def _group_by_handle(client: AsyncWebClient, handle: str) -> _FoundGroup:
    """{"id": ..., "users": [...]} for the group with this handle, or {} when there is none."""
    groups = (await client.usergroups_list(include_users=True))["usergroups"]
    group = next((g for g in groups if g.get("handle") == handle), None)
    if group is None:
        return {}
    return {"id": group["id"], "users": list(group.get("users") or [])}
