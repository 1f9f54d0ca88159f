"""Turning the people named in playbooks (Slack IDs, e-mails, user groups) into Slack user IDs."""

from __future__ import annotations

import re
from collections.abc import Iterable

from slack_sdk.web.async_client import AsyncWebClient

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


async def usergroup_members(client: AsyncWebClient, group: str) -> list[str]:
    """Members of a user group given by ID (S0123) or handle (management)."""
    group_id = group if GROUP_ID.match(group) else None
    if group_id is None:
        groups = (await client.usergroups_list())["usergroups"]
        group_id = next((g["id"] for g in groups if g.get("handle") == group.lstrip("@")), None)
        if group_id is None:
            return []
    return list((await client.usergroups_users_list(usergroup=group_id))["users"])
