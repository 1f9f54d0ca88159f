"""What every method handler shares: arguments, errors, the registry, pagination."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from .state import Workspace


class SlackError(Exception):
    """A Slack error answer: HTTP 200 with ``{"ok": false, "error": ...}`` plus any extra keys."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class Args(dict):
    """A method's merged arguments. Form and query values are strings; JSON ones are typed."""

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def get_bool(self, name: str, default: bool = False) -> bool:
        value = self.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "yes")

    def get_int(self, name: str, default: int) -> int:
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments",
                             response_metadata={"messages": [f"[ERROR] {name}: not a number"]}) from None

    def get_list(self, name: str) -> list[str]:
        """Comma-separated ids (``"U1,U2"``) or a JSON list."""
        value = self.get(name)
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return [str(v) for v in value]

    def get_json(self, name: str) -> Any:
        """A structured argument (blocks, view, files) sent JSON-encoded in a string, or as JSON."""
        value = self.get(name)
        if not isinstance(value, str):
            return value
        if value == "":
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError("invalid_arguments",
                             response_metadata={"messages": [f"[ERROR] {name}: invalid JSON"]}) from None


Handler = Callable[[Workspace, Args], dict]


class Registry(dict[str, Handler]):
    """Method name -> handler. A handler returns the answer's keys besides ``ok``, or raises SlackError."""

    def method(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self[name] = handler
            return handler

        return register


def paginate(items: list, args: Args, default_limit: int = 100) -> tuple[list, dict]:
    """One page of ``items`` from ``cursor``/``limit``, and the ``response_metadata`` Slack sends with it."""
    cursor = args.get_str("cursor") or ""
    try:
        start = int(base64.b64decode(cursor).decode().removeprefix("offset:")) if cursor else 0
    except ValueError:
        raise SlackError("invalid_cursor") from None
    limit = args.get_int("limit", default_limit) or default_limit
    end = start + limit
    next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], {"next_cursor": next_cursor}
