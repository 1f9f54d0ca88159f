"""chat.* — posting, editing and deleting messages."""

from __future__ import annotations

from .common import Args, Registry, SlackError
from .methods_conversations import check_dm_target, find, visible
from .render import message_json, permalink
from .state import Channel, Message, ScopeFailure, Workspace

HANDLERS = Registry()

MAX_TEXT = 40_000
MAX_BLOCKS = 50


def destination(ws: Workspace, args: Args) -> Channel:
    """Where chat.postMessage writes: a channel id or name, a DM id, or a user id (their DM with the bot)."""
    key = args.get_str("channel") or ""
    if key in ws.users:
        check_dm_target(ws, key)
        return ws.open_dm([key])
    channel = visible(ws, ws.conversation(key) or ws.channel_by_name(key.removeprefix("#")))
    if channel.is_archived:
        raise SlackError("is_archived")
    return channel


def content(args: Args) -> dict:
    """text, blocks and attachments as given, checked the way Slack checks them."""
    text = args.get_str("text")
    if text is not None and len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    blocks = args.get_json("blocks")
    if blocks is not None and (
        not isinstance(blocks, list)
        or len(blocks) > MAX_BLOCKS
        or not all(isinstance(b, dict) and b.get("type") for b in blocks)
    ):
        raise SlackError("invalid_blocks")
    found = {"text": text, "blocks": blocks, "attachments": args.get_json("attachments")}
    return {key: value for key, value in found.items() if value is not None}


def own_message(ws: Workspace, args: Args, ts_key: str, refusal: str) -> tuple[Channel, Message]:
    channel = find(ws, args)
    if channel.is_archived:
        raise SlackError("is_archived")
    message = channel.message(args.get_str(ts_key))
    if message is None:
        raise SlackError("message_not_found")
    if message.user != ws.bot_user_id:
        raise SlackError(refusal)
    return channel, message


@HANDLERS.method("chat.postMessage")
def post_message(ws: Workspace, args: Args) -> dict:
    channel = destination(ws, args)
    if not channel.is_private and ws.bot_user_id not in channel.members and "chat:write.public" not in ws.scopes:
        # Posting where the bot has not joined is what chat:write.public grants; Slack's refusal names no scope.
        ws.scope_failures.append(ScopeFailure("chat.postMessage", "chat:write.public", ws.scopes, "not_in_channel"))
        raise SlackError("not_in_channel")
    message = ws.post(
        channel,
        ws.bot_user_id,
        **content(args),
        thread_ts=args.get_str("thread_ts") or None,
        metadata=args.get_json("metadata"),
    )
    return {"channel": channel.id, "ts": message.ts, "message": message_json(ws, message)}


@HANDLERS.method("chat.update")
def update(ws: Workspace, args: Args) -> dict:
    channel, message = own_message(ws, args, "ts", "cant_update_message")
    message.history.append((message.text, message.blocks))
    for key, value in content(args).items():  # what is not sent is kept, as in Slack
        setattr(message, key, value)
    if args.get("metadata") is not None:
        message.metadata = args.get_json("metadata")
    message.edited = True
    message.edited_ts = ws.next_ts()
    return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": message_json(ws, message)}


@HANDLERS.method("chat.delete")
def delete(ws: Workspace, args: Args) -> dict:
    channel, message = own_message(ws, args, "ts", "cant_delete_message")
    message.deleted = True
    channel.pins.discard(message.ts)
    return {"channel": channel.id, "ts": message.ts}


@HANDLERS.method("chat.postEphemeral")
def post_ephemeral(ws: Workspace, args: Args) -> dict:
    channel = destination(ws, args)
    uid = args.get_str("user") or ""
    if uid not in ws.users:
        raise SlackError("user_not_found")
    if uid not in channel.members:
        raise SlackError("user_not_in_channel")
    message_ts = ws.next_ts()
    shown = content(args)
    ws.ephemerals.append(
        {
            "channel": channel.id,
            "user": uid,
            "text": shown.get("text", ""),
            "blocks": shown.get("blocks"),
            "thread_ts": args.get_str("thread_ts"),
            "message_ts": message_ts,
        }
    )
    return {"message_ts": message_ts}


@HANDLERS.method("chat.getPermalink")
def get_permalink(ws: Workspace, args: Args) -> dict:
    channel = find(ws, args)
    message = channel.message(args.get_str("message_ts"))
    if message is None:
        raise SlackError("message_not_found")
    return {"channel": channel.id, "permalink": permalink(channel.id, message.ts)}
