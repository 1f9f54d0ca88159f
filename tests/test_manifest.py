"""manifest.yml asks for exactly the scopes the app's Slack calls need, and docs/slack-setup.md says why for each.

A scope nobody uses is one more thing a workspace admin must approve and an attacker with the token
gets; a missing one is a feature that fails on the first real install. Both are caught here by reading
app/ for Web API calls rather than by trusting a list kept by hand.
"""

from __future__ import annotations

import inspect
import re
from functools import cache
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from app.sandbox.fakeslack import scopes

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
SCOPES_PAGE = ROOT / "docs" / "slack-setup.md"  # the README points at it

# `client.chat_postMessage(`, `self.flows.client.files_upload_v2(`, ...: any attribute call named like a
# method of slack_sdk's client (whatever the variable is called), and `api_call("emoji.list", ...)`.
CALL = re.compile(r"\.([a-z]+_[A-Za-z0-9_]+)\(")
API_CALL = re.compile(r"""api_call\(\s*["']([a-zA-Z.]+)["']""")
DELEGATES = re.compile(r"\bself\.([a-z]+_[A-Za-z0-9_]+)\(")

# Incidents get public or private channels; DMs are chat.postMessage to a user id (needs chat:write only).
APP_CHANNEL_KINDS = ("public", "private")
# Where the code uses a method on other kinds than that. The fake's runtime scope check keeps this honest:
# a call on another kind answers missing_scope in the suite.
ONLY_ON: dict[str, tuple[str, ...]] = {
    # app/slack/flows.py lists a *private* incident to people in its channel; public ones are listed to all.
    "conversations.members": ("private",),
    # app/slack/once.py: after an interrupted attempt, a DM's history is read to find a page sent unrecorded.
    "conversations.history": ("public", "private", "im"),
    "conversations.open": ("im",),
}
ALWAYS = {"commands"}  # the /incident slash command


@cache
def web_api_methods(client_method: str) -> frozenset[str]:
    """The Web API methods a slack_sdk AsyncWebClient method calls, read from its source: its own
    api_call("...") or, for wrappers such as files_upload_v2, the client methods it calls."""
    source = inspect.getsource(getattr(AsyncWebClient, client_method))
    direct = API_CALL.findall(source)
    if direct:
        return frozenset(direct)
    found: set[str] = set()
    for name in set(DELEGATES.findall(source)) - {client_method}:
        if name in vars(AsyncWebClient) and not name.startswith("_"):
            found |= web_api_methods(name)
    return frozenset(found)


def app_calls() -> dict[str, set[str]]:
    """Web API method -> the app files that call it."""
    calls: dict[str, set[str]] = {}
    for path in sorted(APP.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        methods = set(API_CALL.findall(source))
        for name in CALL.findall(source):
            if name in vars(AsyncWebClient) and name != "api_call":  # else httpx, SQLAlchemy, ...
                methods |= web_api_methods(name)
        for method in methods:
            calls.setdefault(method, set()).add(str(path.relative_to(ROOT)))
    return calls


def needed_scopes() -> set[str]:
    needed = set(ALWAYS)
    for method in app_calls():
        needed |= scopes.possible(method, ONLY_ON.get(method, APP_CHANNEL_KINDS))
    return needed


def test_snake_case_client_methods_map_to_slacks_dotted_names() -> None:
    assert web_api_methods("chat_postMessage") == {"chat.postMessage"}
    assert web_api_methods("usergroups_users_list") == {"usergroups.users.list"}
    assert web_api_methods("users_lookupByEmail") == {"users.lookupByEmail"}
    assert web_api_methods("files_upload_v2") == {"files.getUploadURLExternal", "files.completeUploadExternal"}


def test_the_scan_finds_the_calls_the_app_makes() -> None:
    calls = app_calls()

    assert {"chat.postMessage", "conversations.create", "conversations.history", "views.open"} <= calls.keys()
    unknown = sorted(set(calls) - scopes.METHOD_SCOPES.keys())
    assert not unknown, (f"add these methods' scopes (Slack's method pages) to app/sandbox/fakeslack/scopes.py:"
                         f" {unknown}")


def test_the_manifest_asks_for_exactly_the_scopes_the_app_uses() -> None:
    granted = scopes.manifest_scopes()
    needed = needed_scopes()

    assert len(granted) == len(set(granted)), "a scope is listed twice"
    assert not needed - set(granted), f"manifest.yml lacks scopes the app needs: {sorted(needed - set(granted))}"
    assert not set(granted) - needed, f"manifest.yml grants scopes nothing uses: {sorted(set(granted) - needed)}"


def why_each_scope() -> dict[str, str]:
    """docs/slack-setup.md's "Why each scope" list: `- \\`scope\\` — reason`, one line per scope."""
    text = SCOPES_PAGE.read_text(encoding="utf-8")
    match = re.search(r"^#+ Why each scope\n(.*?)(?=^#)", text, flags=re.M | re.S)
    assert match, "docs/slack-setup.md needs a 'Why each scope' section"
    lines = re.findall(r"^[-*|]\s*`([a-z.:]+)`\s*[—|:-]+\s*(.+)$", match.group(1), flags=re.M)
    return dict(lines)


@pytest.mark.parametrize("scope", scopes.manifest_scopes())
def test_the_readme_says_why_the_app_needs_each_scope(scope: str) -> None:
    reasons = why_each_scope()

    assert reasons.get(scope, "").strip(), f"docs/slack-setup.md 'Why each scope' has no line for {scope}"


def test_the_readme_explains_no_scope_the_manifest_does_not_grant() -> None:
    assert set(why_each_scope()) == set(scopes.manifest_scopes())


def test_the_manifest_subscribes_to_exactly_the_events_and_shortcuts_the_app_listens_for() -> None:
    import yaml

    from app.slack.timeline.shortcut import TIMELINE_SHORTCUT

    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    source = "\n".join(path.read_text(encoding="utf-8") for path in (APP / "slack").rglob("*.py"))
    listened = set(re.findall(r"""@app\.event\(\s*["']([a-z_]+)["']""", source))

    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == listened
    assert [s["callback_id"] for s in manifest["features"]["shortcuts"]] == [TIMELINE_SHORTCUT]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
