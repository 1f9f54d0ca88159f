"""Templates compiled once per process: Jinja's bytecode cache, kept in memory.

Each environment that renders the files in messages/ compiles them on first use. A process that starts the
bot more than once (the tests, the benchmarks, the sandbox's drills) would compile all of them again each
time; with this cache it compiles each once. Jinja compares a template's source with the one it compiled,
so an edited file is compiled again. Environments configured differently (Slack's escaping, HTML's
autoescaping, plain text) compile differently, so each configuration has a cache of its own.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import MemcachedBytecodeCache


class _InMemory(dict[str, Any]):
    """The `client` MemcachedBytecodeCache writes to: `get` is dict's own; `set` keeps the value for good."""

    def set(self, key: str, value: Any, timeout: int | None = None) -> None:
        self[key] = value


@cache
def compiled(configuration: str) -> MemcachedBytecodeCache:
    """The cache for environments configured as `configuration` says ("slack", "html", "plain")."""
    return MemcachedBytecodeCache(_InMemory(), prefix=f"{configuration}/")
