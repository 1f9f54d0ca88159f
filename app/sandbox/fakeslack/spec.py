"""Which Web API methods exist and which arguments they require, from Slack's own OpenAPI spec.

The spec (vendor/web-api-openapi-v2.json, slackapi/slack-api-specs, MIT: vendor/LICENSE-slack-api-specs;
env SLACK_OPENAPI_SPEC overrides) is vendored so the repository stands alone. It dates from 2020: newer
methods are allowed by name below, and where it marks nothing required but Slack does (it lists no required
argument for any conversations.* method), the second table adds what Slack's method pages say.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

DEFAULT_SPEC = Path(__file__).resolve().parent / "vendor" / "web-api-openapi-v2.json"

# Methods newer than the spec, with the arguments Slack's docs mark required.
NEWER_METHODS: dict[str, tuple[str, ...]] = {
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
    "bookmarks.add": ("channel_id", "title", "type"),
}

# Required by Slack's docs although the spec does not say so.
DOCUMENTED_REQUIRED: dict[str, tuple[str, ...]] = {
    "conversations.archive": ("channel",),
    "conversations.create": ("name",),
    "conversations.history": ("channel",),
    "conversations.info": ("channel",),
    "conversations.invite": ("channel", "users"),
    "conversations.join": ("channel",),
    "conversations.kick": ("channel", "user"),
    "conversations.members": ("channel",),
    "conversations.rename": ("channel", "name"),
    "conversations.replies": ("channel", "ts"),
    "conversations.setPurpose": ("channel", "purpose"),
    "conversations.setTopic": ("channel", "topic"),
    "conversations.unarchive": ("channel",),
    "chat.delete": ("channel", "ts"),
    "users.info": ("user",),
    "views.update": ("view",),
}

# chat methods that need something to show (Slack answers no_text otherwise).
NEEDS_CONTENT = ("chat.postMessage", "chat.update", "chat.postEphemeral")


def spec_path() -> Path:
    return Path(os.environ.get("SLACK_OPENAPI_SPEC") or DEFAULT_SPEC)


@cache
def _load(path: Path) -> dict[str, frozenset[str]]:
    """Method name -> the arguments the spec marks required (token aside: it travels in the header)."""
    paths = json.loads(path.read_text(encoding="utf-8"))["paths"]
    methods = {}
    for route, operations in paths.items():
        required = {
            param["name"]
            for operation in operations.values()
            for param in operation.get("parameters", [])
            if param.get("required") and param["name"] != "token"
        }
        methods[route.lstrip("/")] = frozenset(required)
    return methods


def is_known(method: str) -> bool:
    return method in NEWER_METHODS or method in _load(spec_path())


def missing_arguments(method: str, args: dict) -> list[str]:
    """Required arguments absent from ``args`` (an empty string counts as given: Slack judges it itself)."""
    required = set(_load(spec_path()).get(method, ()))
    required |= set(NEWER_METHODS.get(method, ())) | set(DOCUMENTED_REQUIRED.get(method, ()))
    return sorted(name for name in required if args.get(name) is None)


def lacks_content(method: str, args: dict) -> bool:
    return method in NEEDS_CONTENT and not any(args.get(k) for k in ("text", "blocks", "attachments"))
