"""Running the real bot in this process, as the benchmarks and the tests both do: a signing secret of their own,
the bot served on a free loopback port, and waiting until declarations have settled.

Here rather than in app/: nothing in the product serves itself on port 0 or waits for its own setups (the
sandbox serves on the port its page took, app/sandbox/run.py). Here rather than in tests/: benchmarks are dev
tools that must not depend on the test suite; the tests import this module instead (tests/support.py, their one
place for fixtures, re-exports it). The bot is driven from Slack's side by app/sandbox/slack_driver.py, its
clock moved by hand with app/clock.py's ManualClock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from aiohttp import web
from sqlalchemy import func, select

from app.duework.models import DueWork, WorkKind
from app.main import Runtime
from app.web import runner as http_runner

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
START = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # where a ManualClock starts unless told otherwise
T = TypeVar("T")


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve `app` on a free port of 127.0.0.1, as `python -m app` serves it (access log included:
    tests/test_logs_private.py reads it); the runner (to clean up) and the base URL."""
    runner = http_runner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
    """Poll an async check (a database query, say) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s")
        await asyncio.sleep(0.01)


async def settled(runtime: Runtime, timeout: float = 10.0) -> None:
    """Wait until every declaration's setup (channel, kickoff, announcement...) has been written down."""

    async def nothing_pending() -> bool:
        async with runtime.db.transaction() as session:
            pending = await session.scalar(select(func.count()).select_from(DueWork).where(
                DueWork.kind == WorkKind.SETUP, DueWork.done_at.is_(None), DueWork.due_at <= runtime.clock.now()))
        return pending == 0

    await eventually(nothing_pending, timeout)
