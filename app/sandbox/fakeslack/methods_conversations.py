"""conversations.* — channels, their members, topics and history."""

from __future__ import annotations

import re

from .common import Args, Registry, SlackError, paginate
from .render import channel_json, message_json
from .state import Channel, Workspace

HANDLERS = Registry()

_NAME_CHARS = re.compile(r"[a-z0-9_\-]+")
_NAME_LETTERS = re.compile(r"[a-z0-9]")
MAX_NAME = 80
MAX_TOPIC = 250


def check_name(ws: Workspace, name: str | None, *, renaming: Channel | None = None) -> str:
    """Slack's channel-name rules, with its error codes."""
    if not name:
        raise SlackError("invalid_name_required")
    if not _NAME_CHARS.fullmatch(name):
        raise SlackError("invalid_name_specials")
    if len(name) > MAX_NAME:
        raise SlackError("invalid_name_maxlength")
    if not _NAME_LETTERS.search(name):
        raise SlackError("invalid_name_punctuation")
    holder = ws.channel_by_name(name)  # archived channels keep their names
    if holder is not None and holder is not renaming:
        raise SlackError("name_taken")
    return name


def visible(ws: Workspace, channel: Channel | None) -> Channel:
    """The channel if the bot can see it: a private channel it is not in does not exist for it, as in Slack."""
    if channel is None or (channel.is_private and ws.bot_user_id not in channel.members):
        raise SlackError("channel_not_found")
    return channel


def find(ws: Workspace, args: Args, key: str = "channel") -> Channel:
    return visible(ws, ws.conversation(args.get_str(key)))


def writable(ws: Workspace, args: Args) -> Channel:
    """A channel the bot may change: it exists, is not archived, and the bot is in it."""
    channel = find(ws, args)
    if channel.is_archived:
        raise SlackError("is_archived")
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    return channel


@HANDLERS.method("conversations.create")
def create(ws: Workspace, args: Args) -> dict:
    name = check_name(ws, args.get_str("name"))
    cid = ws.add_channel(name, is_private=args.get_bool("is_private"), members=[ws.bot_user_id])
    return {"channel": channel_json(ws, ws.channels[cid])}


@HANDLERS.method("conversations.info")
def info(ws: Workspace, args: Args) -> dict:
    return {"channel": channel_json(ws, find(ws, args))}


@HANDLERS.method("conversations.invite")
def invite(ws: Workspace, args: Args) -> dict:
    channel = writable(ws, args)
    user_ids = args.get_list("users")
    if not user_ids:
        raise SlackError("no_user")
    for uid in user_ids:
        user = ws.users.get(uid)
        if user is None:
            raise SlackError("user_not_found", errors=[{"user": uid, "ok": False, "error": "user_not_found"}])
        if uid == ws.bot_user_id:
            raise SlackError("cant_invite_self")
        if user.deleted:
            raise SlackError("cant_invite", errors=[{"user": uid, "ok": False, "error": "cant_invite"}])
    newcomers = [uid for uid in user_ids if uid not in channel.members]
    if not newcomers:
        raise SlackError("already_in_channel",
                         errors=[{"user": u, "ok": False, "error": "already_in_channel"} for u in user_ids])
    channel.members.update(newcomers)
    return {"channel": channel_json(ws, channel)}


@HANDLERS.method("conversations.kick")
def kick(ws: Workspace, args: Args) -> dict:
    channel = writable(ws, args)
    uid = args.get_str("user")
    if uid == ws.bot_user_id:
        raise SlackError("cant_kick_self")
    if uid not in ws.users:
        raise SlackError("user_not_found")
    if uid not in channel.members:
        raise SlackError("not_in_channel")
    channel.members.discard(uid)
    return {}


def _set_text(ws: Workspace, args: Args, key: str) -> dict:
    channel = writable(ws, args)
    value = args.get_str(key) or ""
    if len(value.encode("utf-16-le")) // 2 > MAX_TOPIC:  # Slack counts UTF-16 code units
        raise SlackError("too_long")
    setattr(channel, key, value)
    return {"channel": channel_json(ws, channel)}


@HANDLERS.method("conversations.setTopic")
def set_topic(ws: Workspace, args: Args) -> dict:
    return _set_text(ws, args, "topic")


@HANDLERS.method("conversations.setPurpose")
def set_purpose(ws: Workspace, args: Args) -> dict:
    return _set_text(ws, args, "purpose")


@HANDLERS.method("conversations.archive")
def archive(ws: Workspace, args: Args) -> dict:
    channel = find(ws, args)
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_general:
        raise SlackError("cant_archive_general")
    if channel.is_archived:
        raise SlackError("already_archived")
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    channel.is_archived = True
    return {}


@HANDLERS.method("conversations.unarchive")
def unarchive(ws: Workspace, args: Args) -> dict:
    channel = find(ws, args)
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if not channel.is_archived:
        raise SlackError("not_archived")
    channel.is_archived = False
    return {}


@HANDLERS.method("conversations.rename")
def rename(ws: Workspace, args: Args) -> dict:
    channel = writable(ws, args)
    name = check_name(ws, args.get_str("name"), renaming=channel)
    if name != channel.name:
        channel.previous_names.insert(0, channel.name)
        channel.name = name
    return {"channel": channel_json(ws, channel)}


@HANDLERS.method("conversations.join")
def join(ws: Workspace, args: Args) -> dict:
    channel = find(ws, args)
    if channel.is_private or channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if channel.is_archived:
        raise SlackError("is_archived")
    already = ws.bot_user_id in channel.members
    channel.members.add(ws.bot_user_id)
    answer: dict = {"channel": channel_json(ws, channel)}
    if already:
        answer["warning"] = "already_in_channel"
        answer["response_metadata"] = {"warnings": ["already_in_channel"]}
    return answer


@HANDLERS.method("conversations.open")
def open_dm(ws: Workspace, args: Args) -> dict:
    if args.get_str("channel"):
        channel = find(ws, args)
    else:
        user_ids = args.get_list("users")
        if not user_ids:
            raise SlackError("users_list_not_supplied")
        for uid in user_ids:
            check_dm_target(ws, uid)
        channel = ws.open_dm(user_ids)
    if args.get_bool("return_im"):
        return {"channel": channel_json(ws, channel)}
    return {"channel": {"id": channel.id}}


def check_dm_target(ws: Workspace, uid: str) -> None:
    user = ws.users.get(uid)
    if user is None:
        raise SlackError("user_not_found")
    if user.deleted:
        raise SlackError("user_disabled")
    if user.is_bot and uid != ws.bot_user_id:
        raise SlackError("cannot_dm_bot")


@HANDLERS.method("conversations.members")
def members(ws: Workspace, args: Args) -> dict:
    channel = find(ws, args)
    page, metadata = paginate(sorted(channel.members), args)
    return {"members": page, "response_metadata": metadata}


@HANDLERS.method("conversations.list")
def list_conversations(ws: Workspace, args: Args) -> dict:
    types = set(args.get_list("types") or ["public_channel"])
    exclude_archived = args.get_bool("exclude_archived")
    found = []
    for channel in [*ws.channels.values(), *ws.ims.values()]:
        kind = "im" if channel.is_im else "private_channel" if channel.is_private else "public_channel"
        if kind not in types or (exclude_archived and channel.is_archived):
            continue
        if channel.is_private and ws.bot_user_id not in channel.members:
            continue
        found.append(channel_json(ws, channel))
    page, metadata = paginate(found, args)
    return {"channels": page, "response_metadata": metadata}


def _visible_history(ws: Workspace, args: Args) -> Channel:
    channel = find(ws, args)
    if not channel.is_im and ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    return channel


def _ts_bound(args: Args, key: str, default: str) -> float:
    try:
        return float(args.get_str(key) or default)
    except ValueError:
        raise SlackError(f"invalid_ts_{key}") from None


@HANDLERS.method("conversations.history")
def history(ws: Workspace, args: Args) -> dict:
    channel = _visible_history(ws, args)
    latest = _ts_bound(args, "latest", "inf")
    oldest = _ts_bound(args, "oldest", "0")
    inclusive = args.get_bool("inclusive")
    in_range = [
        m
        for m in reversed(channel.messages)
        if not m.deleted
        and m.thread_ts in (None, m.ts)
        and (oldest <= float(m.ts) <= latest if inclusive else oldest < float(m.ts) < latest)
    ]
    page, metadata = paginate(in_range, args)
    return {
        "messages": [message_json(ws, m) for m in page],
        "has_more": bool(metadata["next_cursor"]),
        "pin_count": len(channel.pins),
        "response_metadata": metadata,
    }


@HANDLERS.method("conversations.replies")
def replies(ws: Workspace, args: Args) -> dict:
    channel = _visible_history(ws, args)
    parent = channel.message(args.get_str("ts"))
    if parent is None:
        raise SlackError("thread_not_found")
    thread = [m for m in channel.messages if not m.deleted and (m is parent or m.thread_ts == parent.ts)]
    page, metadata = paginate(thread, args, default_limit=1000)
    return {
        "messages": [message_json(ws, m) for m in page],
        "has_more": bool(metadata["next_cursor"]),
        "response_metadata": metadata,
    }
