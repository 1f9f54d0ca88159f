"""Which bot scope each Web API method needs (Slack's method pages), and which scopes the app was granted.

Slack checks a bot token's scopes on every call, and for conversation methods the scope depends on the
kind of conversation: reading a private channel's history needs groups:history, a public one's
channels:history. A fake that skipped this would let the app ship without a scope it uses, so the fake
reads the scopes from the repository's manifest.yml, the same file the app is installed from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import yaml

from .common import Args
from .state import ScopeFailure, Workspace

MANIFEST = Path(__file__).resolve().parents[3] / "manifest.yml"

KINDS = ("public", "private", "im", "mpim")

# A conversation method's scope by kind of conversation.
ByKind = Mapping[str, str]
HISTORY: ByKind = {"public": "channels:history", "private": "groups:history", "im": "im:history",
                   "mpim": "mpim:history"}
READ: ByKind = {"public": "channels:read", "private": "groups:read", "im": "im:read", "mpim": "mpim:read"}
MANAGE: ByKind = {"public": "channels:manage", "private": "groups:write", "im": "im:write", "mpim": "mpim:write"}
OPEN: ByKind = {"im": "im:write", "mpim": "mpim:write"}

# Method -> its scope, its scope by conversation kind, or None (no scope: views.*, auth.test, ...).
METHOD_SCOPES: dict[str, str | ByKind | None] = {
    "auth.test": None,
    "apps.connections.open": None,  # the app-level token's connections:write, not a bot scope (socket_mode.py)
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": None,
    "conversations.history": HISTORY,
    "conversations.replies": HISTORY,
    "conversations.info": READ,
    "conversations.members": READ,
    "conversations.list": READ,  # every requested type's scope, see needed()
    "conversations.create": MANAGE,
    "conversations.invite": MANAGE,
    "conversations.kick": MANAGE,
    "conversations.setTopic": MANAGE,
    "conversations.setPurpose": MANAGE,
    "conversations.rename": MANAGE,
    "conversations.archive": MANAGE,
    "conversations.unarchive": MANAGE,
    "conversations.join": "channels:join",
    "conversations.open": OPEN,
    "pins.add": "pins:write",
    "pins.remove": "pins:write",
    "pins.list": "pins:read",
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
    "reactions.get": "reactions:read",
    "reactions.list": "reactions:read",
    "bookmarks.add": "bookmarks:write",
    "bookmarks.edit": "bookmarks:write",
    "bookmarks.remove": "bookmarks:write",
    "bookmarks.list": "bookmarks:read",
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "views.open": None,
    "views.push": None,
    "views.update": None,
    "views.publish": None,
}

# Scopes a method may need on top of its own: chat.postMessage to a public channel the bot has not
# joined needs chat:write.public (without it Slack answers not_in_channel, see methods_chat).
ALSO_NEEDS: dict[str, tuple[str, ...]] = {"chat.postMessage": ("chat:write.public",)}

LIST_TYPES = {"public_channel": "public", "private_channel": "private", "im": "im", "mpim": "mpim"}

# Every scope the table names: tests of the fake itself grant these, so they exercise one method at a time.
ALL: tuple[str, ...] = tuple(sorted(
    {s for entry in METHOD_SCOPES.values() if entry for s in ([entry] if isinstance(entry, str) else entry.values())}
    | {s for extra in ALSO_NEEDS.values() for s in extra}
))


@cache
def _manifest_scopes(path: Path) -> tuple[str, ...]:
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tuple(manifest["oauth_config"]["scopes"]["bot"])


def manifest_scopes(path: Path = MANIFEST) -> tuple[str, ...]:
    """The bot scopes the app asks for at install, in the manifest's order (Slack's "provided" keeps it)."""
    return _manifest_scopes(path)


def possible(method: str, kinds: Iterable[str] = KINDS) -> set[str]:
    """Every scope ``method`` may need when used on conversations of ``kinds`` (for the manifest check)."""
    entry = METHOD_SCOPES[method]
    found: set[str] = set(ALSO_NEEDS.get(method, ()))
    if isinstance(entry, str):
        found.add(entry)
    elif entry is not None:
        found |= {entry[kind] for kind in kinds if kind in entry}
    return found


def conversation_kind(ws: Workspace, method: str, args: Args) -> str | None:
    """public, private, im or mpim: the kind of conversation the call is about (None: not known to Slack)."""
    if method == "conversations.create":
        return "private" if args.get_bool("is_private") else "public"
    if method == "conversations.open" and not args.get_str("channel"):
        return "mpim" if len(set(args.get_list("users")) - {ws.bot_user_id}) > 1 else "im"
    key = args.get_str("channel_id" if method.startswith("bookmarks.") else "channel") or ""
    if key in ws.users:
        return "im"  # chat.postMessage to a user id writes to the app's DM with them
    channel = ws.conversation(key) or ws.channel_by_name(key.removeprefix("#"))
    if channel is None:
        return None
    if channel.is_im:
        return "mpim" if len(channel.members - {ws.bot_user_id}) > 1 else "im"
    return "private" if channel.is_private else "public"


def refusal(ws: Workspace, method: str, args: Args) -> ScopeFailure | None:
    """The first scope this call needs that the token lacks, recorded in ``ws.scope_failures``."""
    for scope in needed(ws, method, args):
        if scope not in ws.scopes:
            failure = ScopeFailure(method, scope, ws.scopes)
            ws.scope_failures.append(failure)
            return failure
    return None


def needed(ws: Workspace, method: str, args: Args) -> list[str]:
    """The scopes this call needs, given the conversation it touches (empty when none or not knowable)."""
    entry = METHOD_SCOPES[method]
    if entry is None:
        return []
    if isinstance(entry, str):
        return [entry]
    if method == "conversations.list":
        kinds = [LIST_TYPES[t] for t in args.get_list("types") or ["public_channel"] if t in LIST_TYPES]
        return [entry[kind] for kind in kinds]
    kind = conversation_kind(ws, method, args)
    return [entry[kind]] if kind is not None and kind in entry else []
