"""GET /health (alive: answers while the process serves, no I/O) and GET /ready (fit to take work).

Ready means: the incident tables answer a real query, no due work is left overdue (someone is
sweeping), this process's sweeper has swept lately, and Slack's last answer was not a dead token or
no answer at all. Not ready is 503 with a JSON body naming each failed check.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.clock import Clock
from app.db import Database
from app.duework.models import DueWork
from app.duework.sweeper import Sweeper
from app.incidents.models import Incident
from app.ops.slack_calls import SlackCalls

QUERY_TIMEOUT = 5.0
MIN_GRACE = 30.0  # seconds: a sweep held up by Slack's rate limits is late, not stuck


@dataclass
class Readiness:
    db: Database
    clock: Clock
    sweeper: Sweeper
    slack: SlackCalls

    @property
    def grace(self) -> float:
        """How far behind due work and the sweeper may be: a couple of sweep intervals."""
        return max(2 * self.sweeper.interval, MIN_GRACE)

    async def check(self) -> tuple[list[str], dict[str, Any]]:
        """The names of the failed checks (none: ready) and what each check found."""
        checks: dict[str, Any] = {}
        failed: list[str] = []
        try:
            checks["database"], checks["due_work"] = await asyncio.wait_for(self._tables(), QUERY_TIMEOUT)
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            checks["database"] = {"ok": False, "error": " ".join(str(error).split("\n")[0].split())[:200]}
            failed.append("database")
        else:
            if not checks["due_work"]["ok"]:
                failed.append("due_work")
        checks["sweeper"] = self._sweeper()
        if not checks["sweeper"]["ok"]:
            failed.append("sweeper")
        checks["slack"] = self._slack()
        if not checks["slack"]["ok"]:
            failed.append("slack")
        return failed, checks

    async def _tables(self) -> tuple[dict[str, Any], dict[str, Any]]:
        async with self.db.checking() as session:
            open_incidents = await session.scalar(
                select(func.count()).select_from(Incident).where(Incident.resolved_at.is_(None)))
            oldest_due = await session.scalar(select(func.min(DueWork.due_at)).where(DueWork.done_at.is_(None)))
        late = (self.clock.now() - oldest_due).total_seconds() if oldest_due is not None else 0.0
        overdue = late > self.grace
        due_work = {"ok": not overdue, "oldest_overdue_seconds": round(late, 1) if overdue else 0.0,
                    "allowed_seconds": self.grace}
        return {"ok": True, "open_incidents": open_incidents}, due_work

    def _sweeper(self) -> dict[str, Any]:
        started, swept = self.sweeper.started_at, self.sweeper.last_swept_at
        if started is None:
            return {"ok": True, "running": False}  # tests and benchmarks sweep by hand
        since = time.monotonic() - (swept if swept is not None else started)
        return {"ok": since <= self.grace, "running": True,
                "last_sweep_seconds_ago": round(time.monotonic() - swept, 1) if swept is not None else None}

    def _slack(self) -> dict[str, Any]:
        last = self.slack.last_failure
        described = None if last is None else {"method": last.method, "error": last.error,
                                               "at": last.at.isoformat(timespec="seconds")}
        return {"ok": self.slack.failing() is None, "last_error": described}


def add_health_routes(app: web.Application, readiness: Readiness) -> None:
    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def ready(_request: web.Request) -> web.Response:
        failed, checks = await readiness.check()
        if failed:
            return web.json_response({"status": "not ready", "failed": failed, "checks": checks}, status=503)
        return web.json_response({"status": "ready", "checks": checks})

    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
