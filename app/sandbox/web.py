"""The sandbox's page and the small JSON API its script uses.

GET /sandbox/state says what one person sees (their channels, the open channel's messages with their own
private answers in place, their modal, their App Home); the POSTs are what that person does, which the
Client turns into what Slack would send the bot. Only the page itself may ask (sealed.own_page_only).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from app.clock import Clock, SystemClock
from app.ops.refusals import refuse
from app.sandbox.client import Client, Private
from app.sandbox.fakeslack import Channel, FakeSlack, Message
from app.sandbox.sealed import own_page_only
from app.sandbox.workspace import Workspace
from app.settings import PROJECT_ROOT

STATIC = Path(__file__).resolve().parent / "static"
WORKSPACE = web.AppKey("sandbox_workspace", Workspace)
CLIENT = web.AppKey("sandbox_client", Client)
CLOCK = web.AppKey("sandbox_clock", Clock)
SHORTCUTS = web.AppKey("sandbox_shortcuts", list)
EMOJI_NAME = re.compile(r"[a-z0-9_+'-]{1,100}")  # what Slack allows in a custom emoji's name, and the standard ones


def message_shortcuts(manifest: Path = PROJECT_ROOT / "manifest.yml") -> list[dict[str, str]]:
    """The app's message shortcuts, as its manifest declares them to Slack: what a message's ⋯ menu offers."""
    features = (yaml.safe_load(manifest.read_text(encoding="utf-8")) or {}).get("features", {})
    return [{"callback_id": s["callback_id"], "name": s["name"]}
            for s in features.get("shortcuts", []) if s.get("type") == "message"]


def add_sandbox_routes(app: web.Application, workspace: Workspace, client: Client, *, port: int,
                       clock: Clock | None = None) -> None:
    """The page and its API on `app`, which then answers only the page (served on 127.0.0.1:`port`)."""
    app.middlewares.insert(0, own_page_only(port))  # first: nothing else looks at a request from elsewhere
    app[WORKSPACE] = workspace
    app[CLIENT] = client
    app[CLOCK] = clock or SystemClock()
    app[SHORTCUTS] = message_shortcuts()
    app.router.add_get("/", index)
    app.router.add_static("/sandbox/static", STATIC)
    app.router.add_get("/sandbox/state", state)
    app.router.add_get("/sandbox/files/{file_id}", file)
    app.router.add_post("/sandbox/say", say)
    app.router.add_post("/sandbox/press", press)
    app.router.add_post("/sandbox/submit", submit)
    app.router.add_post("/sandbox/dismiss", dismiss)
    app.router.add_post("/sandbox/join", join)
    app.router.add_post("/sandbox/home", home_opened)
    app.router.add_post("/sandbox/react", react)
    app.router.add_post("/sandbox/shortcut", shortcut)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def state(request: web.Request) -> web.Response:
    workspace, client = request.app[WORKSPACE], request.app[CLIENT]
    fake = workspace.fake
    user = request.query.get("user") or workspace.people["alice"]
    if user not in fake.users:
        raise web.HTTPNotFound(text="no such person")
    channels = [c for c in fake.channels.values() if not c.is_archived and (not c.is_private or user in c.members)]
    dm = fake.open_dm([user])
    shown = fake.conversation(request.query.get("channel")) or fake.channels[workspace.incidents]
    if shown not in channels and shown is not dm:
        shown = fake.channels[workspace.incidents]
    return web.json_response({
        "me": user,
        "bot": fake.bot_user_id,
        "clock": {"now": request.app[CLOCK].now().timestamp(), "speed": getattr(request.app[CLOCK], "speed", 1)},
        "shortcuts": request.app[SHORTCUTS],
        "people": [{"id": u.id, "name": u.name, "real_name": u.real_name, "is_bot": u.is_bot,
                    "part": workspace.part(u.id)} for u in fake.users.values() if not u.deleted],
        "channels": [{"id": c.id, "name": c.name, "is_private": c.is_private, "member": user in c.members}
                     for c in sorted(channels, key=lambda c: c.name)],
        "names": {c.id: c.name for c in fake.channels.values()},
        "groups": {g.id: g.handle for g in fake.usergroups.values()},
        "dm": dm.id,
        "channel": conversation(fake, client, shown, user),
        "modal": client.modal(user),
        "home": home_view(fake, user),
    })


def conversation(fake: FakeSlack, client: Client, channel: Channel, user: str) -> dict[str, Any]:
    shown = [message_json(m, pinned=m.ts in channel.pins, me=user) for m in fake.messages_in(channel.id)]
    shown += [{"ts": p.ts, "user": fake.bot_user_id, "text": p.text, "blocks": p.blocks, "private": True}
              for p in client.private(user, channel.id)]
    return {"id": channel.id, "name": channel.name or "Incident Bot", "is_im": channel.is_im,
            "is_private": channel.is_private, "topic": channel.topic, "member": user in channel.members,
            "members": len(channel.members), "messages": sorted(shown, key=lambda m: float(m["ts"]))}


def message_json(message: Message, *, pinned: bool, me: str) -> dict[str, Any]:
    return {"ts": message.ts, "user": message.user, "text": message.text, "blocks": message.blocks,
            "thread_ts": message.thread_ts if message.thread_ts != message.ts else None,
            "edited": message.edited, "pinned": pinned,
            "reactions": [{"name": name, "count": len(users), "mine": me in users}
                          for name, users in message.reactions.items()],
            "files": [{"id": f["id"], "title": f["title"]} for f in message.files]}


def home_view(fake: FakeSlack, user: str) -> dict[str, Any] | None:
    published = [v for v in fake.views if v["method"] == "views.publish" and v.get("user_id") == user]
    return fake.open_views.get(published[-1]["view_id"]) if published else None


async def file(request: web.Request) -> web.Response:
    fake = request.app[WORKSPACE].fake
    found = next((f for f in fake.files if f["id"] == request.match_info["file_id"]), None)
    if found is None:
        raise web.HTTPNotFound()
    return web.Response(body=found["content"], content_type="text/plain", charset="utf-8")


async def asked(request: web.Request, **shape: type) -> dict[str, Any]:
    """The page's JSON request, with each field `shape` names of its type and `user` one of the workspace's people;
    anything else is the page's mistake (400), never an error of the sandbox (500)."""
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="not a JSON object")
    wrong = [name for name, kind in shape.items() if not isinstance(body.get(name), kind)]
    if wrong:
        raise web.HTTPBadRequest(text=f"missing or of the wrong type: {', '.join(wrong)}")
    if "user" in shape and body["user"] not in request.app[WORKSPACE].fake.users:
        raise web.HTTPNotFound(text="no such person")
    return body


async def say(request: web.Request) -> web.Response:
    """The composer: a slash command goes to the bot; anything else is an ordinary message."""
    body = await asked(request, user=str, channel=str, text=str)
    fake, client = request.app[WORKSPACE].fake, request.app[CLIENT]
    user, channel, text = body["user"], body["channel"], body["text"].strip()
    conversation = fake.conversation(channel)
    if conversation is None or user not in conversation.members:
        raise web.HTTPForbidden(text="join the channel first")
    command, _, rest = text.partition(" ")
    if command == "/incident":
        await client.command(user, channel, rest.strip())
    elif command.startswith("/"):
        client.acks.append(Private(user, channel, f"{command} is not a command here: try /incident help", None,
                                   fake.next_ts()))
    elif text:
        fake.post(conversation, user, text=text)
    return web.json_response({"ok": True})


async def press(request: web.Request) -> web.Response:
    client = request.app[CLIENT]
    if isinstance((await asked(request)).get("view_id"), str):
        body = await asked(request, user=str, view_id=str, action=dict)
        await client.press_in_view(body["user"], body["view_id"], body["action"])
    else:
        body = await asked(request, user=str, channel=str, ts=str, action=dict)
        await client.press(body["user"], body["channel"], body["ts"], body["action"])
    return web.json_response({"ok": True})


async def submit(request: web.Request) -> web.Response:
    body = await asked(request, user=str, view_id=str, values=dict)
    answer = await request.app[CLIENT].submit(body["user"], body["view_id"], body["values"])
    return web.json_response(answer)


async def dismiss(request: web.Request) -> web.Response:
    request.app[CLIENT].dismiss((await asked(request, view_id=str))["view_id"])
    return web.json_response({"ok": True})


async def join(request: web.Request) -> web.Response:
    """Join a public channel, as from Slack's channel browser; the bot hears member_joined_channel."""
    body = await asked(request, user=str, channel=str)
    fake, client = request.app[WORKSPACE].fake, request.app[CLIENT]
    channel = fake.channels.get(body["channel"])
    if channel is None or channel.is_private:
        raise web.HTTPNotFound(text="no such public channel")
    if body["user"] not in channel.members:
        channel.members.add(body["user"])
        await client.event({"type": "member_joined_channel", "user": body["user"], "channel": channel.id,
                            "channel_type": "C", "team": fake.team_id, "inviter": ""})
    return web.json_response({"ok": True})


def seen_message(fake: FakeSlack, body: dict[str, Any]) -> Channel:
    """The conversation of the message `body` names (channel, ts), which its user must be able to see."""
    conversation = fake.conversation(body["channel"])
    if conversation is None or body["user"] not in conversation.members:
        raise web.HTTPForbidden(text="join the channel first")
    if conversation.message(body["ts"]) is None:
        raise web.HTTPNotFound(text="no such message")
    return conversation


async def react(request: web.Request) -> web.Response:
    """A reaction added or taken back on a message the person can see."""
    body, client = await asked(request, user=str, channel=str, ts=str, add=bool), request.app[CLIENT]
    conversation = seen_message(request.app[WORKSPACE].fake, body)
    if not isinstance(body.get("name"), str) or not EMOJI_NAME.fullmatch(body["name"]):
        return refuse(request, "not an emoji name", status=400)
    await client.react(body["user"], conversation.id, body["ts"], str(body["name"]), add=bool(body["add"]))
    return web.json_response({"ok": True})


async def shortcut(request: web.Request) -> web.Response:
    """One of the app's message shortcuts (the manifest's), used on a message the person can see."""
    body, client = await asked(request, user=str, channel=str, ts=str, callback_id=str), request.app[CLIENT]
    conversation = seen_message(request.app[WORKSPACE].fake, body)
    if body["callback_id"] not in {s["callback_id"] for s in request.app[SHORTCUTS]}:
        raise web.HTTPNotFound(text="the app has no such message shortcut")
    await client.shortcut(body["user"], conversation.id, body["ts"], body["callback_id"])
    return web.json_response({"ok": True})


async def home_opened(request: web.Request) -> web.Response:
    body, client = await asked(request, user=str), request.app[CLIENT]
    await client.event({"type": "app_home_opened", "user": body["user"],
                        "channel": client.fake.open_dm([body["user"]]).id, "tab": "home"})
    return web.json_response({"ok": True})

