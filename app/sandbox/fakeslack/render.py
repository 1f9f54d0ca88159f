"""The JSON shapes Slack answers with, built from state (keys follow java-slack-sdk's json-logs samples)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .state import Channel, Message, User, Workspace


def channel_json(ws: Workspace, channel: Channel) -> dict:
    if channel.is_im:
        others = sorted(channel.members - {ws.bot_user_id})
        return {
            "id": channel.id,
            "created": channel.created,
            "is_im": len(others) <= 1,
            "is_mpim": len(others) > 1,
            "is_channel": False,
            "is_group": False,
            "is_private": True,
            "is_archived": False,
            "is_open": True,
            "is_org_shared": False,
            "user": others[0] if others else ws.bot_user_id,
            "context_team_id": ws.team_id,
        }
    return {
        "id": channel.id,
        "name": channel.name,
        "name_normalized": channel.name,
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private,
        "created": channel.created,
        "creator": channel.creator,
        "is_archived": channel.is_archived,
        "is_general": channel.is_general,
        "unlinked": 0,
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "shared_team_ids": [ws.team_id],
        "is_member": ws.bot_user_id in channel.members,
        "is_open": True,
        "topic": {"value": channel.topic, "creator": channel.creator if channel.topic else "", "last_set": 0},
        "purpose": {"value": channel.purpose, "creator": channel.creator if channel.purpose else "", "last_set": 0},
        "previous_names": list(channel.previous_names),
        "num_members": len(channel.members),
        "context_team_id": ws.team_id,
        "updated": channel.created * 1000,
    }


def _tz_offset(tz: str) -> int:
    try:
        offset = datetime.now(UTC).astimezone(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds()) if offset else 0


def user_json(ws: Workspace, user: User) -> dict:
    profile = {
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.name,
        "display_name_normalized": user.name,
        "team": ws.team_id,
        "image_48": "https://fake.slack.com/avatar.png",
    }
    if user.email:
        profile["email"] = user.email
    if user.id == ws.bot_user_id:
        profile["bot_id"] = ws.bot_id
    return {
        "id": user.id,
        "team_id": ws.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": user.tz,
        "tz_offset": _tz_offset(user.tz),
        "profile": profile,
        "is_admin": False,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 0,
    }


def message_json(ws: Workspace, message: Message) -> dict:
    body: dict = {"type": "message", "ts": message.ts, "user": message.user, "text": message.text, "team": ws.team_id}
    if message.user == ws.bot_user_id:
        body["bot_id"] = ws.bot_id
        body["app_id"] = ws.app_id
        body["bot_profile"] = {"id": ws.bot_id, "app_id": ws.app_id, "name": "incident-bot", "team_id": ws.team_id}
    optional = {
        "blocks": message.blocks,
        "attachments": message.attachments,
        "thread_ts": message.thread_ts,
        "metadata": message.metadata,
        "files": message.files,
    }
    body.update({key: value for key, value in optional.items() if value})
    if message.edited:
        body["edited"] = {"user": message.user, "ts": message.edited_ts}
    if message.reactions:
        body["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)} for name, users in message.reactions.items()
        ]
    return body


def permalink(channel_id: str, ts: str) -> str:
    return f"https://fake.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
