"""The fake workspace's state: plain dataclasses, no HTTP.

Tests assert on these objects directly (``fake.channels[cid].members``), so they stay
small and typed. Ids and timestamps come from counters, which keeps runs deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIRST_TS = 1_700_000_000  # seconds; message ts count up from here in steps of 100 µs
BOT_NAME = "incident-bot"
PLANS = ("paid", "free")  # a Free workspace has no user groups


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False
    email: str | None = None


@dataclass
class Message:
    ts: str
    channel: str
    user: str
    text: str = ""
    blocks: list | None = None
    thread_ts: str | None = None
    edited: bool = False
    history: list[tuple[str, list | None]] = field(default_factory=list)  # previous (text, blocks)
    deleted: bool = False
    metadata: dict | None = None
    attachments: list | None = None
    files: list[dict] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)  # emoji name -> user ids
    edited_ts: str | None = None


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_general: bool = False  # the workspace's #general: never archived
    topic: str = ""
    purpose: str = ""
    members: set[str] = field(default_factory=set)
    messages: list[Message] = field(default_factory=list)
    pins: set[str] = field(default_factory=set)
    created: int = FIRST_TS
    creator: str = ""
    is_im: bool = False
    previous_names: list[str] = field(default_factory=list)
    bookmarks: list[dict] = field(default_factory=list)

    def message(self, ts: str | None) -> Message | None:
        return next((m for m in self.messages if m.ts == ts and not m.deleted), None)


@dataclass
class Usergroup:
    id: str
    handle: str
    users: list[str] = field(default_factory=list)


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    status: int = 0  # HTTP status, set once answered


@dataclass(frozen=True)
class ScopeFailure:
    """A call Slack refused for want of a scope: the method, the scope it needed, what the token had."""

    method: str
    needed: str
    provided: tuple[str, ...]
    error: str = "missing_scope"  # chat.postMessage without chat:write.public answers not_in_channel


class Workspace:
    """Everything the fake Slack knows, plus the records tests read back."""

    def __init__(self, *, bot_token: str = "xoxb-test", team_id: str = "T0001",
                 scopes: tuple[str, ...] = (), plan: str = "paid") -> None:
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {PLANS}, not {plan!r}")
        self.bot_token = bot_token
        self.team_id = team_id
        self.scopes = tuple(scopes)  # the bot token's granted scopes, in grant order
        self.plan = plan
        self.revoked = False
        self.base_url = ""  # set by the server once it listens
        self.bot_id = "B00000001"
        self.app_id = "A00000001"
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.ims: dict[str, Channel] = {}  # DM channels ("D…"), kept apart from named channels
        self.usergroups: dict[str, Usergroup] = {}
        self.ephemerals: list[dict] = []
        self.views: list[dict] = []
        self.files: list[dict] = []
        self.responses: list[dict] = []
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.scope_failures: list[ScopeFailure] = []
        self.open_views: dict[str, dict] = {}  # view id -> last view payload answered
        self.pending_uploads: dict[str, dict] = {}  # file id -> upload awaiting completion
        self._ids: dict[str, int] = {}
        self._ticks = 0
        self._im_ids: dict[frozenset[str], str] = {}
        self.bot_user_id = self.add_user(BOT_NAME, real_name="Incident Bot", is_bot=True)

    # ids and clock

    def new_id(self, prefix: str) -> str:
        self._ids[prefix] = self._ids.get(prefix, 0) + 1
        return f"{prefix}{self._ids[prefix]:08d}"

    def next_ts(self) -> str:
        """A message ts, strictly greater than every one handed out before."""
        self._ticks += 1
        micros = self._ticks * 100
        return f"{FIRST_TS + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def now(self) -> int:
        """Whole seconds of the fake clock, for `created` fields."""
        return FIRST_TS + self._ticks * 100 // 1_000_000

    # setup

    def add_user(
        self,
        name: str,
        *,
        real_name: str = "",
        tz: str = "UTC",
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
    ) -> str:
        uid = self.new_id("U")
        self.users[uid] = User(uid, name, real_name or name, tz, is_bot, deleted, email)
        return uid

    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        is_archived: bool = False,
        members: list[str] | tuple[str, ...] = (),
        creator: str | None = None,
    ) -> str:
        if self.channel_by_name(name) is not None:
            raise ValueError(f"a channel named {name!r} exists already")
        cid = self.new_id("C")
        self.channels[cid] = Channel(
            cid,
            name,
            is_private=is_private,
            is_archived=is_archived,
            members=set(members),
            created=self.now(),
            creator=creator or self.bot_user_id,
        )
        return cid

    def add_usergroup(self, handle: str, *, users: list[str] | tuple[str, ...] = ()) -> str:
        sid = self.new_id("S")
        self.usergroups[sid] = Usergroup(sid, handle, list(users))
        return sid

    # lookups

    def channel_by_name(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name), None)

    def conversation(self, conversation_id: str | None) -> Channel | None:
        if not conversation_id:
            return None
        return self.channels.get(conversation_id) or self.ims.get(conversation_id)

    def user_by_email(self, email: str) -> User | None:
        wanted = email.lower()
        return next((u for u in self.users.values() if u.email and u.email.lower() == wanted), None)

    def open_dm(self, user_ids: list[str]) -> Channel:
        """The one DM channel for this set of people (the bot is always in it)."""
        key = frozenset(user_ids) - {self.bot_user_id}
        cid = self._im_ids.get(key)
        if cid is None:
            cid = self._im_ids[key] = self.new_id("D")
            self.ims[cid] = Channel(
                cid, "", is_private=True, members=set(key) | {self.bot_user_id},
                created=self.now(), creator=self.bot_user_id, is_im=True,
            )
        return self.ims[cid]

    def messages_in(self, channel_id: str) -> list[Message]:
        channel = self.conversation(channel_id)
        return [m for m in channel.messages if not m.deleted] if channel else []

    def dms_to(self, user_id: str) -> list[Message]:
        cid = self._im_ids.get(frozenset({user_id}))
        return self.messages_in(cid) if cid else []

    def responses_to(self, url: str) -> list[dict]:
        return [r["payload"] for r in self.responses if r["url"] == url]

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # changes shared by several methods

    def react(self, channel_id: str, ts: str, user: str, name: str, *, add: bool = True) -> None:
        """Someone adds (or removes) a reaction in Slack's client; the test then delivers the event."""
        channel = self.conversation(channel_id)
        message = channel.message(ts) if channel else None
        if message is None:
            raise ValueError(f"no message {ts} in {channel_id}")
        users = message.reactions.setdefault(name, [])
        if add and user not in users:
            users.append(user)
        elif not add and user in users:
            users.remove(user)
        if not users:
            del message.reactions[name]

    def post(self, channel: Channel, user: str, **fields: Any) -> Message:
        message = Message(ts=self.next_ts(), channel=channel.id, user=user, **fields)
        channel.messages.append(message)
        return message
