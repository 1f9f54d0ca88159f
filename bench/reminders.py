"""What an update reminder costs in Slack calls, and whether 200 due together all arrive in time under
Slack's rate limits.  Run from the repository root:

    .venv/bin/python -m bench.reminders                  # SQLite (temp file), about 90 s of real time
    .venv/bin/python -m bench.reminders --incidents 200 --spread 60

The bot (app.main.start_runtime) runs against the fake Slack of app/sandbox/fakeslack, in this process.

1. Calls per reminder, normal case: 20 open P2 incidents, their reminders swept twice with the app's clock
   moved by hand. The second round is the steady state: the new reminder and the old one marked superseded
   (target 2 calls), and no conversations.history read (target 0: history is read only after an attempt
   was interrupted).
2. Under the rate limits: the fake enforces Slack's tiers (chat.postMessage about 1/s per channel with
   bursts of 3; chat.update Tier 3; ...) in real time, and the bot runs on the system clock with its
   sweeper started as `python -m app` starts it (every --sweep seconds). --incidents P2 incidents have
   their first reminder fall due within --spread seconds (0: all at the same moment). Measured: how late
   each reminder reached Slack after its due time (p50, max), the time from the first due time to the
   last reminder, reminders per channel (target: exactly 1 each, none lost, none doubled), and 429s.
   Target: every reminder within 60 s of its due time.
Figures are printed and written to bench/results/reminders.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from app.clock import Clock, ManualClock, SystemClock
from app.duework.models import DueWork, WorkKind
from app.incidents import deadlines, service
from app.incidents.models import Severity
from app.main import Runtime, start_runtime
from app.sandbox.fakeslack import FakeSlack
from app.settings import PROJECT_ROOT, Settings
from bench.harness import SIGNING_SECRET, START

RESULTS = PROJECT_ROOT / "bench" / "results"


def settings(fake: FakeSlack, directory: Path, sweep: float) -> Settings:
    return Settings(slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.api_url,
                    database_url=f"sqlite+aiosqlite:///{directory / 'bench.db'}", sweep_seconds=sweep)


async def open_incidents(runtime: Runtime, fake: FakeSlack, count: int, clock: Clock) -> list[tuple[int, str]]:
    """P2 incidents with channels, acknowledged, stored as the declare flow stores them."""
    owner = fake.add_user("ic", real_name="Incident Commander")
    made = []
    async with runtime.db.transaction() as session:
        for number in range(count):
            incident = await service.declare_incident(
                session, title=f"Bench {number}", severity=Severity.P2, impact="", declared_by=owner, roles={},
                now=clock.now())
            incident.channel_id = fake.add_channel(f"bench-{number}", members=[fake.bot_user_id, owner])
            incident.acknowledged_at = clock.now()
            await deadlines.plan_clock(session, incident, runtime.policy, now=clock.now())
            made.append((incident.id, incident.channel_id))
    return made


def reminders(fake: FakeSlack, channel: str) -> int:
    return sum(1 for m in fake.messages_in(channel) if ":alarm_clock:" in m.text)


async def calls_per_reminder(incidents: int) -> dict[str, Any]:
    clock = ManualClock(START)
    async with FakeSlack() as fake:
        with tempfile.TemporaryDirectory() as directory:
            runtime = await start_runtime(settings(fake, Path(directory), 5), clock=clock)
            try:
                made = await open_incidents(runtime, fake, incidents, clock)
                rounds = []
                for _ in range(2):
                    clock.advance(hours=1)
                    before = len(fake.calls)
                    await runtime.sweeper.sweep_all()
                    rounds.append(Counter(c.method for c in fake.calls[before:]))
            finally:
                await runtime.close()
    steady = rounds[1]
    return {"incidents": len(made), "first_round": dict(rounds[0]), "steady_round": dict(steady),
            "calls_per_reminder": sum(steady.values()) / len(made),
            "history_reads": steady.get("conversations.history", 0) + rounds[0].get("conversations.history", 0)}


async def under_rate_limits(incidents: int, spread: float, sweep: float) -> dict[str, Any]:
    clock = SystemClock()
    async with FakeSlack(rate_limits=True) as fake:
        with tempfile.TemporaryDirectory() as directory:
            runtime = await start_runtime(settings(fake, Path(directory), sweep), clock=clock)
            try:
                made = await open_incidents(runtime, fake, incidents, clock)
                first_due = clock.now() + timedelta(seconds=3)
                due = {channel: first_due + timedelta(seconds=spread * n / max(incidents - 1, 1))
                       for n, (_, channel) in enumerate(made)}
                async with runtime.db.transaction() as session:
                    for (incident_id, channel) in made:
                        await session.execute(update(DueWork).where(
                            DueWork.incident_id == incident_id, DueWork.kind == WorkKind.UPDATE_REMINDER,
                            DueWork.done_at.is_(None)).values(due_at=due[channel]))
                runtime.sweeper.start()
                started = time.monotonic()
                wall_start = datetime.now(UTC)
                deadline = started + spread + 180
                # ASYNC110 below: polls the fake Slack, which signals nothing, as the tests do
                while time.monotonic() < deadline and not all(reminders(fake, c) for _, c in made):  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
                await asyncio.sleep(2 * sweep)  # anything doubled would show by now
                runtime.sweeper.stop()
                late = []
                for _, channel in made:
                    posts = [c for c in fake.calls_to("chat.postMessage")
                             if c.args.get("channel") == channel and c.status == 200]
                    if posts:
                        arrived = wall_start + timedelta(seconds=posts[0].at - started)
                        late.append((arrived - due[channel]).total_seconds())
                per_channel = Counter(reminders(fake, c) for _, c in made)
            finally:
                await runtime.close()
    last = max(due.values()) - first_due
    return {
        "incidents": incidents, "spread_s": spread, "sweep_s": sweep,
        "delivered": len(late), "reminders_per_channel": dict(per_channel),
        "late_p50_s": round(statistics.median(late), 2) if late else None,
        "late_max_s": round(max(late), 2) if late else None,
        "first_due_to_last_reminder_s": round(last.total_seconds() + max(late), 2) if late else None,
        "ratelimited_429": dict(fake.ratelimited),
        "within_a_minute": bool(late) and len(late) == incidents and max(late) <= 60,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    return {"calls": await calls_per_reminder(args.normal),
            "rate_limited": await under_rate_limits(args.incidents, args.spread, args.sweep)}


def report(result: dict[str, Any]) -> str:
    calls, limited = result["calls"], result["rate_limited"]
    return "\n".join([
        f"Normal case, {calls['incidents']} incidents: first round {calls['first_round']}, "
        f"steady round {calls['steady_round']}",
        f"  Web API calls per reminder: {calls['calls_per_reminder']:.2f} (target 2); "
        f"conversations.history reads: {calls['history_reads']} (target 0)",
        f"Rate limits on, {limited['incidents']} reminders due within {limited['spread_s']} s "
        f"(sweep every {limited['sweep_s']} s):",
        f"  delivered {limited['delivered']}, reminders per channel {limited['reminders_per_channel']}",
        f"  late after due: p50 {limited['late_p50_s']} s, max {limited['late_max_s']} s; first due to last "
        f"reminder {limited['first_due_to_last_reminder_s']} s; 429s {limited['ratelimited_429']}",
        f"  every reminder within a minute of its due time: {limited['within_a_minute']}",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--normal", type=int, default=20, help="incidents for the calls-per-reminder count")
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--spread", type=float, default=0.0, help="seconds over which the reminders fall due")
    parser.add_argument("--sweep", type=float, default=1.0, help="SWEEP_SECONDS of the bot")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "reminders.json").write_text(json.dumps(result, indent=2, default=str))
    print(report(result))


if __name__ == "__main__":
    main()
