"""auth, users, usergroups, pins, reactions, bookmarks."""

from __future__ import annotations

from .common import Args, Registry, SlackError, paginate
from .methods_conversations import find
from .render import message_json, user_json
from .state import Channel, Message, Workspace

HANDLERS = Registry()


@HANDLERS.method("auth.test")
def auth_test(ws: Workspace, args: Args) -> dict:
    return {
        "url": "https://fake.slack.com/",
        "team": "Fake Workspace",
        "user": ws.users[ws.bot_user_id].name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "app_id": ws.app_id,
        "is_enterprise_install": False,
    }


@HANDLERS.method("users.info")
def users_info(ws: Workspace, args: Args) -> dict:
    user = ws.users.get(args.get_str("user") or "")
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user_json(ws, user)}


@HANDLERS.method("users.lookupByEmail")
def users_lookup_by_email(ws: Workspace, args: Args) -> dict:
    user = ws.user_by_email(args.get_str("email") or "")
    if user is None:
        raise SlackError("users_not_found")
    return {"user": user_json(ws, user)}


@HANDLERS.method("users.list")
def users_list(ws: Workspace, args: Args) -> dict:
    page, metadata = paginate([user_json(ws, u) for u in ws.users.values()], args, default_limit=200)
    return {"members": page, "cache_ts": ws.now(), "response_metadata": metadata}


@HANDLERS.method("usergroups.list")
def usergroups_list(ws: Workspace, args: Args) -> dict:
    with_users = args.get_bool("include_users")
    groups = []
    for group in ws.usergroups.values():
        shown = {"id": group.id, "team_id": ws.team_id, "handle": group.handle, "name": group.handle,
                 "is_usergroup": True, "user_count": len(group.users)}
        if with_users:
            shown["users"] = list(group.users)
        groups.append(shown)
    return {"usergroups": groups}


@HANDLERS.method("usergroups.users.list")
def usergroups_users_list(ws: Workspace, args: Args) -> dict:
    group = ws.usergroups.get(args.get_str("usergroup") or "")
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group.users)}


def _message_item(ws: Workspace, args: Args, ts_key: str = "timestamp") -> tuple[Channel, Message]:
    """The message a pin or reaction is about; archived channels are read-only."""
    channel = find(ws, args)
    if channel.is_archived:
        raise SlackError("is_archived")
    ts = args.get_str(ts_key)
    if not ts:
        raise SlackError("no_item_specified")
    message = channel.message(ts)
    if message is None:
        raise SlackError("message_not_found")
    return channel, message


@HANDLERS.method("pins.add")
def pins_add(ws: Workspace, args: Args) -> dict:
    channel, message = _message_item(ws, args)
    if message.ts in channel.pins:
        raise SlackError("already_pinned")
    channel.pins.add(message.ts)
    return {}


@HANDLERS.method("pins.remove")
def pins_remove(ws: Workspace, args: Args) -> dict:
    channel, message = _message_item(ws, args)
    if message.ts not in channel.pins:
        raise SlackError("no_pin")
    channel.pins.discard(message.ts)
    return {}


@HANDLERS.method("pins.list")
def pins_list(ws: Workspace, args: Args) -> dict:
    channel = find(ws, args)
    pinned = [m for m in channel.messages if m.ts in channel.pins and not m.deleted]
    items = [
        {"type": "message", "channel": channel.id, "created": ws.now(), "created_by": ws.bot_user_id,
         "message": message_json(ws, m)}
        for m in pinned
    ]
    return {"items": items}


@HANDLERS.method("reactions.add")
def reactions_add(ws: Workspace, args: Args) -> dict:
    _, message = _message_item(ws, args)
    name = (args.get_str("name") or "").strip(":")
    if not name:
        raise SlackError("invalid_name")
    users = message.reactions.setdefault(name, [])
    if ws.bot_user_id in users:
        raise SlackError("already_reacted")
    users.append(ws.bot_user_id)
    return {}


@HANDLERS.method("reactions.remove")
def reactions_remove(ws: Workspace, args: Args) -> dict:
    _, message = _message_item(ws, args)
    name = (args.get_str("name") or "").strip(":")
    users = message.reactions.get(name, [])
    if ws.bot_user_id not in users:
        raise SlackError("no_reaction")
    users.remove(ws.bot_user_id)
    if not users:
        del message.reactions[name]
    return {}


@HANDLERS.method("bookmarks.add")
def bookmarks_add(ws: Workspace, args: Args) -> dict:
    channel = find(ws, args, key="channel_id")
    if channel.is_archived:
        raise SlackError("is_archived")
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    if args.get_str("type") != "link" or not args.get_str("link"):
        raise SlackError("invalid_arguments")
    bookmark = {
        "id": ws.new_id("Bk"),
        "channel_id": channel.id,
        "title": args.get_str("title"),
        "link": args.get_str("link"),
        "emoji": args.get_str("emoji") or "",
        "icon_url": "",
        "type": "link",
        "entity_id": args.get_str("entity_id") or "",
        "date_created": ws.now(),
        "date_updated": 0,
        "rank": str(len(channel.bookmarks)),
        "last_updated_by_user_id": ws.bot_user_id,
        "last_updated_by_team_id": ws.team_id,
        "shortcut_id": "",
        "app_id": ws.app_id,
    }
    channel.bookmarks.append(bookmark)
    return {"bookmark": bookmark}


@HANDLERS.method("reactions.get")
def reactions_get(ws: Workspace, args: Args) -> dict:
    channel = find(ws, args)
    message = channel.message(args.get_str("timestamp"))
    if message is None:
        raise SlackError("message_not_found")
    return {"type": "message", "channel": channel.id, "message": message_json(ws, message)}
