"""Templates compiled once per process: Jinja's bytecode cache, kept in memory.

Each environment that renders the files in messages/ compiles them on first use. A process that starts the
bot more than once (the tests, the benchmarks, the sandbox's drills) would compile all of them again each
time; with this cache it compiles each once. Jinja compares a template's source with the one it compiled,
so an edited file is compiled again. Environments configured differently (Slack's escaping, HTML's
autoescaping, plain text) compile differently, so each configuration has a cache of its own.
"""

from __future__ import annotations

from functools import cache

from jinja2.bccache import Bucket, BytecodeCache


class _InMemory(BytecodeCache):
    """Each template's bytecode, by Jinja's key for it, kept for good."""

    def __init__(self) -> None:
        self.codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.codes.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.codes[bucket.key] = bucket.bytecode_to_string()


@cache
def compiled(configuration: str) -> BytecodeCache:
    """The cache for environments configured as `configuration` says ("slack", "html", "plain")."""
    return _InMemory()
