"""views.* — modals and App Home."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from .common import Args, Registry, SlackError
from .scopes import MANIFEST
from .state import Workspace

HANDLERS = Registry()


MAX_BLOCKS = 100  # a modal's or Home tab's blocks (Slack's Block Kit limit)


def _sent_view(args: Args, *kinds: str) -> dict:
    view = args.get_json("view")
    if not isinstance(view, dict) or view.get("type") not in kinds:
        message = f"[ERROR] view must be an object of type {' or '.join(kinds)}"
        raise SlackError("invalid_arguments", response_metadata={"messages": [message]})
    if len(view.get("blocks") or []) > MAX_BLOCKS:
        message = f"[ERROR] must provide an array of at most {MAX_BLOCKS} items [json-pointer:/view/blocks]"
        raise SlackError("invalid_arguments", response_metadata={"messages": [message]})
    return view


@cache
def home_tab_enabled(path: Path = MANIFEST) -> bool:
    """The app's Home tab is switched on in manifest.yml (features.app_home.home_tab_enabled)."""
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return bool(((manifest.get("features") or {}).get("app_home") or {}).get("home_tab_enabled"))


def _trigger(ws: Workspace, args: Args) -> str:
    """A trigger_id is good for one views.open/push (Slack answers exchanged_trigger_id after that)."""
    trigger_id = args.get_str("trigger_id") or ""
    if not trigger_id:
        raise SlackError("invalid_trigger_id")
    if any(v["trigger_id"] == trigger_id for v in ws.views):
        raise SlackError("exchanged_trigger_id")
    return trigger_id


def _answer(ws: Workspace, view: dict, view_id: str, *, root: str | None = None, previous: str | None = None) -> dict:
    shown = {
        "id": view_id,
        "team_id": ws.team_id,
        "type": view["type"],
        "title": view.get("title"),
        "submit": view.get("submit"),
        "close": view.get("close"),
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": view.get("external_id", ""),
        "state": {"values": {}},
        "hash": ws.new_id("hash-"),
        "clear_on_close": bool(view.get("clear_on_close")),
        "notify_on_close": bool(view.get("notify_on_close")),
        "root_view_id": root or view_id,
        "previous_view_id": previous,
        "app_id": ws.app_id,
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }
    ws.open_views[view_id] = shown
    return {"view": shown}


def _record(ws: Workspace, method: str, view: dict, view_id: str, trigger_id: str | None = None, **more: str) -> None:
    ws.views.append({"trigger_id": trigger_id, "view": view, "method": method, "view_id": view_id, **more})


def _new_modal(method: str, ws: Workspace, args: Args) -> dict:
    trigger_id = _trigger(ws, args)
    view = _sent_view(args, "modal")
    view_id = ws.new_id("V")
    _record(ws, method, view, view_id, trigger_id)
    return _answer(ws, view, view_id)


@HANDLERS.method("views.open")
def views_open(ws: Workspace, args: Args) -> dict:
    return _new_modal("views.open", ws, args)


@HANDLERS.method("views.push")
def views_push(ws: Workspace, args: Args) -> dict:
    return _new_modal("views.push", ws, args)


@HANDLERS.method("views.update")
def views_update(ws: Workspace, args: Args) -> dict:
    view = _sent_view(args, "modal", "home")
    view_id = args.get_str("view_id")
    external_id = args.get_str("external_id")
    if not view_id and external_id:
        view_id = next((v["id"] for v in ws.open_views.values() if v["external_id"] == external_id), None)
    current = ws.open_views.get(view_id or "")
    if current is None:
        raise SlackError("not_found")
    if args.get_str("hash") and args.get_str("hash") != current["hash"]:
        raise SlackError("hash_conflict")
    _record(ws, "views.update", view, current["id"])
    return _answer(ws, view, current["id"], root=current["root_view_id"], previous=current["previous_view_id"])


@HANDLERS.method("views.publish")
def views_publish(ws: Workspace, args: Args) -> dict:
    if not home_tab_enabled():
        raise SlackError("not_enabled")  # the app has no Home tab
    user_id = args.get_str("user_id") or ""
    if user_id not in ws.users:
        raise SlackError("user_not_found")
    view = _sent_view(args, "home")
    earlier = [v for v in ws.views if v["method"] == "views.publish" and v.get("user_id") == user_id]
    view_id = earlier[-1]["view_id"] if earlier else ws.new_id("V")
    _record(ws, "views.publish", view, view_id, user_id=user_id)
    return _answer(ws, view, view_id)
