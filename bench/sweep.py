"""How much does a sweep of due work cost?  Run from the repository root:

    .venv/bin/python -m bench.sweep                       # SQLite (temp file) and PostgreSQL, ~30 s
    .venv/bin/python -m bench.sweep --only postgresql     # or --only sqlite
    .venv/bin/python -m bench.sweep --sizes 1000,10000,100000   # (c) up to 100,000 open incidents

PostgreSQL: a database of the benchmark's own (bench_sweep_<pid>) is created on the server of
TEST_POSTGRES_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/test) and dropped at the end.

Setup, per database: the app's migrations, then 10,000 open incidents bulk-inserted (SQLAlchemy core
executemany, not the Slack flow) with their due work as app/incidents/deadlines.py would have left it:
a pending update_reminder per incident, a pending ack_deadline while unacknowledged (a cancelled one
once acknowledged), an escalation pending or done, done pages for P0/P1 and a few done reminders of
history. Every pending time is in the future except for 100 incidents whose update reminder is due.
The clock is fixed, and before each measured sweep the due rows are re-armed (planned into the past).

Measured:
  (a) one sweep with a worker that does no I/O (Sweeper + a trivial worker): the database cost of
      claiming, loading and marking 100 due items; and an idle sweep (nothing due), which every replica
      pays every SWEEP_SECONDS;
  (b) one sweep with the real SlackClockWorker (runtime.sweeper) against the fake Slack (latency 0),
      plus where its time goes (Slack calls vs. settle, SQL statements and ORM flushes);
  (c) (a) with 1,000 and 10,000 open incidents and 0, 10 and 100 due: the cost follows the due items;
  (d) the claim query's plan (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).
Target: under 50 ms per sweep on PostgreSQL. Figures are printed and written to bench/results/sweep.json.
The fake Slack runs in this process, on the same event loop: in (b) its CPU is part of "fire". The machine
is shared with whatever else runs; the report says how busy it was in the second before the start.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import math
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, insert, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from app.db import Database, table_of
from app.duework.attempt import Attempt
from app.duework.models import DueWork, WorkKind
from app.duework.sweeper import Fired, Sweeper
from app.incidents.models import Incident, Role, RoleAssignment, Severity, Status, TimelineEvent
from app.incidents.policy import Policy
from app.main import Runtime, start_runtime
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings

BATCH = 100  # rows one measured sweep handles (the app's sweeper claims 25 at a time)

RESULTS = Path(__file__).resolve().parent / "results" / "sweep.json"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TARGET_MS = 50.0
NOW = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)  # the bot's clock stands still; due rows are re-armed
SEVERITY_MIX = {Severity.P0: 0.05, Severity.P1: 0.20, Severity.P2: 0.45, Severity.P3: 0.30}
HISTORY_REMINDERS = 3  # done update reminders per incident, at most (history the partial index must skip)
USERS = 20


# -- small helpers --------------------------------------------------------------------------------


class FixedClock:
    def now(self) -> datetime:
        return NOW


class ErrorLog(logging.Handler):
    """Counts the bot's logged errors (and keeps the first) instead of flooding the terminal."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = self.format(record)


ERRORS = ErrorLog()


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def quiesce() -> None:
    """Before a measured sweep: collect, then move every object alive now out of the collector's sight.

    The fake Slack keeps every call and message it saw, and the benchmark's own state lives on; without
    this, a full collection over that growing heap lands in random sweeps (tens of ms). The sweep's own
    garbage is still collected as usual."""
    gc.collect()
    gc.freeze()


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Share of all CPUs busy over a short window (Linux /proc/stat): is something else running?"""
    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return round(1 - (idle1 - idle0) / max(1, total1 - total0), 2)


def summary(seconds: list[float]) -> dict[str, Any]:
    return {"n": len(seconds), "p50_ms": ms(percentile(seconds, 0.5)), "p95_ms": ms(percentile(seconds, 0.95)),
            "min_ms": ms(min(seconds)), "max_ms": ms(max(seconds)), "mean_ms": ms(statistics.fmean(seconds))}


class NullWorker:
    """Fires without any I/O: what is left of a sweep is the database's share (the lease, the outcome)."""

    classify = staticmethod(lambda error: None)

    def cadence(self, work: DueWork, incident: Incident) -> timedelta | None:
        return timedelta(hours=1) if work.is_recurring else None

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        return Fired()

    async def settle(self, session: AsyncSession, attempt: Attempt, incident: Incident, fired: Fired,
                     now: datetime) -> None:
        return None

    async def gave_up(self, attempt: Attempt, incident: Incident) -> None:
        return None


class TimedWorker:
    """Wraps the real worker to see how a sweep splits between Slack (fire) and settling."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.classify = inner.classify
        self.fire_spans: list[tuple[float, float]] = []
        self.settle_seconds = 0.0

    def cadence(self, work: DueWork, incident: Incident) -> timedelta | None:
        return self.inner.cadence(work, incident)

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        started = time.perf_counter()
        try:
            return await self.inner.fire(attempt, incident, now)
        finally:
            self.fire_spans.append((started, time.perf_counter()))

    async def settle(self, session: AsyncSession, attempt: Attempt, incident: Incident, fired: Fired,
                     now: datetime) -> None:
        started = time.perf_counter()
        await self.inner.settle(session, attempt, incident, fired, now)
        self.settle_seconds += time.perf_counter() - started

    async def gave_up(self, attempt: Attempt, incident: Incident) -> None:
        await self.inner.gave_up(attempt, incident)


# -- SQL statement accounting (diagnostic sweeps only; the timed ones run without listeners) --------


def statement_kind(sql: str) -> str:
    verb = sql.lstrip().split(None, 1)[0].upper()
    pattern = {"SELECT": r"\bFROM\s+\"?(\w+)", "INSERT": r"\bINTO\s+\"?(\w+)", "UPDATE": r"^\s*UPDATE\s+\"?(\w+)",
               "DELETE": r"\bFROM\s+\"?(\w+)"}.get(verb)
    match = re.search(pattern, sql, re.IGNORECASE) if pattern else None
    return f"{verb} {match.group(1)}" if match else verb


@dataclass
class StatementLog:
    count: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    captured: dict[str, tuple[str, Any]] = field(default_factory=dict)
    flushes: int = 0
    flush_seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.count.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "statements": self.total,
            "statement_ms": ms(sum(self.seconds.values())),
            "orm_flushes": self.flushes,
            "orm_flush_ms": ms(self.flush_seconds),
            "by_kind": {k: {"statements": n, "rows": self.rows[k], "ms": ms(self.seconds[k])}
                        for k, n in self.count.most_common()},
        }


@contextmanager
def statements(db: Database) -> Iterator[StatementLog]:
    log = StatementLog()
    engine = db.engine.sync_engine

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        elapsed = time.perf_counter() - conn.info["bench_started"].pop()
        kind = statement_kind(statement)
        log.count[kind] += 1
        log.rows[kind] += len(getattr(context, "compiled_parameters", None) or (None,))
        log.seconds[kind] += elapsed
        log.captured.setdefault(kind, (statement, parameters))

    def flush_starts(session: Session, flush_context: Any, instances: Any) -> None:
        session.info["bench_flush_started"] = time.perf_counter()

    def flush_ends(session: Session, flush_context: Any) -> None:
        log.flushes += 1
        log.flush_seconds += time.perf_counter() - session.info.pop("bench_flush_started")

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(Session, "before_flush", flush_starts)
    event.listen(Session, "after_flush_postexec", flush_ends)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        event.remove(Session, "before_flush", flush_starts)
        event.remove(Session, "after_flush_postexec", flush_ends)


# -- the data -------------------------------------------------------------------------------------


@dataclass
class World:
    """What the benchmark set up in one database."""

    runtime: Runtime
    fake: FakeSlack
    users: list[str]
    due: list[int]  # incident ids whose update reminder is re-armed into the past
    channels: dict[int, str] = field(default_factory=dict)  # incident id -> its channel in the fake Slack
    open_incidents: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    seed_seconds: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(20261125))

    @property
    def db(self) -> Database:
        return self.runtime.db

    @property
    def policy(self) -> Policy:
        return self.runtime.policy


def work_row(incident_id: int, kind: WorkKind, due_at: datetime, *, created_at: datetime, key: str = "",
             done_at: datetime | None = None, outcome: str | None = None) -> dict[str, Any]:
    return {"incident_id": incident_id, "kind": kind, "key": key, "due_at": due_at, "created_at": created_at,
            "done_at": done_at, "outcome": outcome, "done_by": "bench-seed" if done_at else None,
            "attempts": 1 if done_at else 0}


def incident_rows(world: World, ids: range, due: dict[int, int]) -> dict[str, list[dict[str, Any]]]:
    """Rows for these incidents, the way declaring them and running their clock would have left them."""
    rng, policy = world.rng, world.policy
    severities, weights = list(SEVERITY_MIX), list(SEVERITY_MIX.values())
    incidents, roles, events, work = [], [], [], []
    for i in ids:
        severity = rng.choices(severities, weights)[0]
        rules = policy.for_severity(severity)
        cadence = rules.update_every
        declarer = rng.choice(world.users)
        if i in due:  # overdue by a minute (and a few seconds, for a stable order)
            reminder_due = NOW - timedelta(minutes=1, seconds=due[i])
            last_update = reminder_due - cadence
            started = last_update - timedelta(minutes=rng.uniform(0, 120))
        else:
            started = NOW - timedelta(minutes=rng.uniform(1, 12 * 60))
            last_update = max(started, NOW - cadence * rng.uniform(0.05, 0.9))
            reminder_due = last_update + cadence  # always in the future
        acknowledged_at = None
        if NOW - started >= rules.response_time or rng.random() < 0.5:
            acknowledged_at = started + min(rules.response_time, NOW - started) * rng.uniform(0.1, 0.9)
        incidents.append({
            "id": i, "title": f"Bench incident {i}", "severity": severity, "status": Status.INVESTIGATING,
            "impact": "Benchmark load", "declared_by": declarer, "started_at": started, "resolved_at": None,
            "last_update_at": last_update, "latest_update": None, "acknowledged_at": acknowledged_at,
            "acknowledged_by": declarer if acknowledged_at else None, "root_cause": None, "resolution": None,
            "channel_id": world.channels.get(i, f"CB{i:09d}"), "channel_name": f"incident-bench-{i}",
            "kickoff_ts": None, "announcement_channel_id": None, "announcement_ts": None, "reminder_ts": None,
        })
        roles.append({"incident_id": i, "role": Role.IC, "user_id": declarer, "assigned_at": started})
        if rng.random() < 0.5:
            roles.append({"incident_id": i, "role": Role.TECH, "user_id": rng.choice(world.users),
                          "assigned_at": started})
        events.append({"incident_id": i, "at": started, "actor": declarer, "kind": "declared",
                       "text": f"Declared {severity.value}: Bench incident {i}"})
        # due work, as plan_clock and earlier sweeps would have left it
        for n in range(min(HISTORY_REMINDERS, int((last_update - started) / cadence))):
            at = started + cadence * (n + 1)
            work.append(work_row(i, WorkKind.UPDATE_REMINDER, at, created_at=started, done_at=at, outcome="done"))
        work.append(work_row(i, WorkKind.UPDATE_REMINDER, reminder_due, created_at=last_update))
        ack_due = started + rules.response_time
        if acknowledged_at:
            work.append(work_row(i, WorkKind.ACK_DEADLINE, ack_due, created_at=started, done_at=acknowledged_at,
                                 outcome="cancelled"))
        else:
            work.append(work_row(i, WorkKind.ACK_DEADLINE, ack_due, created_at=started))
        if rules.escalate_after is not None:
            escalate_at = started + rules.escalate_after
            done = escalate_at <= NOW
            work.append(work_row(i, WorkKind.ESCALATION, escalate_at, created_at=started, key=rules.escalate_to or "",
                                 done_at=escalate_at if done else None, outcome="done" if done else None))
        if rules.page:
            work.append(work_row(i, WorkKind.PAGE, started, created_at=started, key=severity.value,
                                 done_at=started, outcome="done"))
    return {"incidents": incidents, "role_assignments": roles, "timeline_events": events, "due_work": work}


async def add_incidents(world: World, ids: range) -> None:
    started = time.perf_counter()
    due = {i: n for n, i in enumerate(world.due) if i in ids}
    rows = incident_rows(world, ids, due)
    tables = {"incidents": table_of(Incident), "role_assignments": table_of(RoleAssignment),
              "timeline_events": table_of(TimelineEvent), "due_work": table_of(DueWork)}
    async with world.db.transaction() as session:
        for name, table in tables.items():
            for chunk in range(0, len(rows[name]), 5000):
                await session.execute(insert(table), rows[name][chunk:chunk + 5000])
            world.rows[name] += len(rows[name])
        if world.db.dialect == "postgresql":  # explicit ids: keep the sequence ahead of them
            await session.execute(text("SELECT setval(pg_get_serial_sequence('incidents', 'id'), "
                                       "(SELECT max(id) FROM incidents))"))
    world.rows["due_work pending"] += sum(1 for w in rows["due_work"] if w["done_at"] is None)
    world.open_incidents += len(ids)
    await analyze(world.db)
    world.seed_seconds += time.perf_counter() - started


async def analyze(db: Database) -> None:
    """Fresh planner statistics, as autovacuum would gather after a bulk load (SQLite: none, as in the app)."""
    if db.dialect != "postgresql":
        return
    async with db.engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql("VACUUM ANALYZE")


async def arm(world: World, n: int) -> None:
    """Re-plan the update reminders of the first n due incidents into the past, the others into the future.

    Afterwards each incident of world.due has exactly one pending update reminder, as the app keeps it.
    """
    async with world.db.transaction() as session:
        await session.execute(delete(DueWork).where(DueWork.incident_id.in_(world.due),
                                                    DueWork.kind == WorkKind.UPDATE_REMINDER,
                                                    DueWork.done_at.is_(None)))
        await session.execute(insert(table_of(DueWork)), [
            work_row(i, WorkKind.UPDATE_REMINDER,
                     NOW - timedelta(minutes=1, seconds=k) if k < n else NOW + timedelta(minutes=10, seconds=k),
                     created_at=NOW - timedelta(hours=1))
            for k, i in enumerate(world.due)])


# -- measurements ---------------------------------------------------------------------------------


async def timed_sweeps(world: World, sweeper: Sweeper, due: int, reps: int, warmup: int) -> list[float]:
    """Sweep `reps` times with `due` items re-armed before each; checks every sweep handled exactly those."""
    seconds = []
    if due == 0:
        await arm(world, 0)
    for rep in range(warmup + reps):
        if due:
            await arm(world, due)
        quiesce()
        started = time.perf_counter()
        handled = await sweeper.sweep()
        elapsed = time.perf_counter() - started
        if handled != due:
            raise RuntimeError(f"a sweep handled {handled} items, {due} were due")
        if ERRORS.count:
            raise RuntimeError(f"the bot logged {ERRORS.count} error(s); the first:\n{ERRORS.first}")
        if rep >= warmup:
            seconds.append(elapsed)
    return seconds


async def diagnostic_sweep(world: World, sweeper: Sweeper, due: int) -> StatementLog:
    await arm(world, due)
    with statements(world.db) as log:
        handled = await sweeper.sweep()
    if handled != due:
        raise RuntimeError(f"a sweep handled {handled} items, {due} were due")
    return log


async def null_cells(world: World, args: argparse.Namespace, main: bool) -> list[dict[str, Any]]:
    """Part (a)/(c): the trivial worker with 0, 10 and 100 due at the current number of open incidents."""
    sweeper = Sweeper(world.db, world.runtime.clock, NullWorker(), name="bench-null", batch=BATCH)
    cells = []
    for due in sorted({0, min(10, len(world.due)), len(world.due)}):
        reps = args.reps if main else args.scale_reps
        if due == 0:
            reps *= 2
        seconds = await timed_sweeps(world, sweeper, due, reps, args.warmup)
        log = await diagnostic_sweep(world, sweeper, due)
        claim = log.seconds.get("SELECT due_work", 0.0)
        cells.append({"open_incidents": world.open_incidents, "due": due, **summary(seconds),
                      "statements": log.total, "claim_query_ms": ms(claim), "sql": log.as_dict()})
    return cells


async def slack_sweeps(world: World, args: argparse.Namespace) -> dict[str, Any]:
    """Part (b): the real SlackClockWorker (runtime.sweeper) against the fake Slack."""
    sweeper = world.runtime.sweeper
    sweeper.batch = BATCH
    due = len(world.due)
    posts_before = len(world.fake.calls_to("chat.postMessage"))
    calls_before = len(world.fake.calls)
    seconds = await timed_sweeps(world, sweeper, due, args.slack_reps, args.warmup)
    swept = args.slack_reps + args.warmup
    posts = len(world.fake.calls_to("chat.postMessage")) - posts_before
    if posts != due * swept:
        raise RuntimeError(f"expected {due * swept} reminders posted, the fake Slack got {posts}")
    methods = Counter(c.method for c in world.fake.calls[calls_before:])

    return {"due": due, "open_incidents": world.open_incidents, **summary(seconds),
            "web_api_calls_per_sweep": {m: round(n / swept, 1) for m, n in methods.most_common()},
            "breakdown_one_sweep": await instrumented_sweep(world, sweeper.worker)}


async def instrumented_sweep(world: World, worker: Any, probes: int = 5) -> dict[str, Any]:
    """Where the time of a sweep goes: the worker wrapped (fire vs. settle) and the SQL counted.

    Medians over a few instrumented sweeps (single ones are noisy: the fake Slack shares the event loop).
    fire: from the first fire() starting to the last one ending (they run concurrently); settle: the loop
    of settle() calls; rest: claim, loading the incidents and the commit (with its flush)."""
    samples = []
    for _ in range(probes):
        timed = TimedWorker(worker)
        probe = Sweeper(world.db, world.runtime.clock, timed, name="bench-probe", batch=BATCH)
        await arm(world, len(world.due))
        quiesce()
        with statements(world.db) as log:
            started = time.perf_counter()
            await probe.sweep()
            total = time.perf_counter() - started
        fire = max(e for _, e in timed.fire_spans) - min(s for s, _ in timed.fire_spans)
        samples.append((total, fire, timed.settle_seconds, log))
    total = statistics.median(s[0] for s in samples)
    fire = statistics.median(s[1] for s in samples)
    settle = statistics.median(s[2] for s in samples)
    return {"probes": probes, "total_ms": ms(total), "fire_all_concurrently_ms": ms(fire), "settle_ms": ms(settle),
            "rest_ms": ms(total - fire - settle), "database_share_ms": ms(total - fire),
            "sql": samples[len(samples) // 2][3].as_dict()}


async def explain_claim(world: World) -> dict[str, Any]:
    """Part (d): the plan of the claim query exactly as the sweeper sends it, with 100 rows due."""
    sweeper = Sweeper(world.db, world.runtime.clock, NullWorker(), name="bench-explain", batch=BATCH)
    log = await diagnostic_sweep(world, sweeper, len(world.due))
    statement, parameters = log.captured["UPDATE due_work"]  # the lease: UPDATE ... WHERE id IN (SELECT ...)
    await arm(world, len(world.due))
    postgres = world.db.dialect == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    async with world.db.engine.connect() as connection:
        result = await connection.exec_driver_sql(prefix + statement, parameters)
        rows = result.all()
        await connection.rollback()  # EXPLAIN ANALYZE really leased the rows
    # SQLAlchemy declares exec_driver_sql's rows as one column each: read them as the tuples they are.
    fields = [tuple(row) for row in rows]
    plan = [f[0] for f in fields] if postgres else [f"{f[1]}|{f[3]}" for f in fields]
    joined = "\n".join(plan)
    return {"statement": " ".join(statement.split()), "plan": plan,
            "uses_partial_index": "ix_due_work_pending" in joined,
            "seq_scan": "Seq Scan" in joined or re.search(r"SCAN due_work(?! USING)", joined) is not None}


# -- one database ---------------------------------------------------------------------------------


async def bench_database(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    fake = FakeSlack(bot_token="xoxb-bench")
    await fake.start()
    users = [fake.add_user(f"responder{n}", real_name=f"Responder {n}") for n in range(USERS)]
    settings = Settings(slack_bot_token="xoxb-bench", slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.api_url,
                        database_url=url)
    runtime = await start_runtime(settings, clock=FixedClock())  # migrates
    sizes = sorted(args.sizes)
    first = sizes[0]
    due_ids = [1 + k * (first // args.due) for k in range(args.due)]  # spread over the first batch
    world = World(runtime=runtime, fake=fake, users=users, due=due_ids)
    world.channels = {i: fake.add_channel(f"incident-bench-{i}", members=[fake.bot_user_id, *users])
                      for i in due_ids}
    result: dict[str, Any] = {"url": url.split("@")[-1], "scaling": []}
    try:
        done = 0
        for size in sizes:
            print(f"  [{name}] {size:,} open incidents: seeding ...", file=sys.stderr, flush=True)
            await add_incidents(world, range(done + 1, size + 1))
            done = size
            if size == args.main_size:
                result["seed"] = {"rows": dict(world.rows), "seconds": round(world.seed_seconds, 2)}
            print(f"  [{name}] {size:,} open incidents: sweeping ...", file=sys.stderr, flush=True)
            cells = await null_cells(world, args, main=size == args.main_size)
            result["scaling"] += cells
            if size != args.main_size:
                continue
            result["null_worker"] = {"due": next(c for c in cells if c["due"] == args.due),
                                     "idle": next(c for c in cells if c["due"] == 0)}
            print(f"  [{name}] {size:,} open incidents: the real SlackClockWorker ...", file=sys.stderr, flush=True)
            result["slack_worker"] = await slack_sweeps(world, args)
            result["explain"] = await explain_claim(world)
        result["fake_slack_violations"] = list(fake.violations)
    finally:
        await runtime.close()
        await fake.stop()
    return result


async def create_database(name: str) -> str:
    engine = create_async_engine(POSTGRES_URL, connect_args={"timeout": 5}, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(name: str) -> None:
    engine = create_async_engine(POSTGRES_URL, connect_args={"timeout": 5}, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "cpu_busy_before_start": cpu_busy()},
        "parameters": {"open_incidents": args.main_size, "due": args.due, "sizes": sorted(args.sizes),
                       "reps": args.reps, "scale_reps": args.scale_reps, "slack_reps": args.slack_reps,
                       "warmup": args.warmup, "batch": 100, "fake_slack_latency_s": 0.0},
        "target_ms": TARGET_MS,
    }
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
            results["sqlite"] = await bench_database("sqlite", f"sqlite+aiosqlite:///{tmp}/sweep.db", args)
    if args.only in (None, "postgresql"):
        name = f"bench_sweep_{os.getpid()}"
        try:
            url = await create_database(name)
        except OSError as error:
            raise SystemExit(f"PostgreSQL is not reachable at {POSTGRES_URL} ({error}); start it with\n"
                             "  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
                             "or run with --only sqlite") from error
        try:
            results["postgresql"] = await bench_database("postgresql", url, args)
        finally:
            await drop_database(name)
    if "postgresql" in results:
        pg = results["postgresql"]
        results["ok"] = {"null_worker_p50_under_target": pg["null_worker"]["due"]["p50_ms"] < TARGET_MS,
                         "slack_worker_p50_under_target": pg["slack_worker"]["p50_ms"] < TARGET_MS,
                         "claim_uses_partial_index": pg["explain"]["uses_partial_index"]}
    return results


# -- report ---------------------------------------------------------------------------------------


def report(r: dict[str, Any]) -> str:
    dbs = [d for d in ("sqlite", "postgresql") if d in r]
    p = r["parameters"]
    lines = [f"Sweep cost: {p['open_incidents']:,} open incidents, {p['due']} due, batch {p['batch']}; "
             f"target < {r['target_ms']:.0f} ms per sweep on PostgreSQL"]
    m = r["machine"]
    busy = m["cpu_busy_before_start"]
    load = f"{m['cpus']} CPUs" + ("" if busy is None else f", {busy:.0%} busy in the second before the start")
    if busy is not None and busy > 0.2:
        load += " (something else was running: the figures may be inflated)"
    lines += [load, ""]
    head = f"{'':46}" + "".join(f"{d:>22}" for d in dbs)
    lines += [head, f"{'':46}" + "".join(f"{'p50 / p95 ms':>22}" for _ in dbs)]

    def row(label: str, get: Any) -> None:
        cells = []
        for d in dbs:
            x = get(r[d])
            cells.append(f"{x['p50_ms']:>8.1f} / {x['p95_ms']:<8.1f}".rjust(22))
        lines.append(f"{label:46}" + "".join(cells))

    row(f"(a) sweep, no-I/O worker, {p['due']} due", lambda d: d["null_worker"]["due"])
    row("(a) idle sweep, nothing due", lambda d: d["null_worker"]["idle"])
    row("(b) sweep, SlackClockWorker + fake Slack", lambda d: d["slack_worker"])

    lines += ["", "(c) no-I/O worker by open incidents and due items: p50 ms (statements per sweep; claim query ms)"]
    lines.append(f"{'open incidents':>16}{'due':>6}" + "".join(f"{d:>30}" for d in dbs))
    keys = sorted({(c["open_incidents"], c["due"]) for d in dbs for c in r[d]["scaling"]})
    for open_, due in keys:
        cells = []
        for d in dbs:
            c = next(c for c in r[d]["scaling"] if (c["open_incidents"], c["due"]) == (open_, due))
            cells.append(f"{c['p50_ms']:8.1f} ({c['statements']:>2} st; {c['claim_query_ms']:5.2f})".rjust(30))
        lines.append(f"{open_:>16,}{due:>6}" + "".join(cells))

    lines += ["", "(b) where a sweep of 100 due goes, median of 5 instrumented sweeps (fire: the 100 run concurrently; "
              "settle: the loop;", "    rest: claim, load, commit; database share = total - fire):"]
    for d in dbs:
        s = r[d]["slack_worker"]
        for label, b in (("SlackClockWorker", s["breakdown_one_sweep"]),):
            sql = b["sql"]
            lines.append(f"  {d} {label}: total {b['total_ms']:.0f} ms = fire {b['fire_all_concurrently_ms']:.0f}"
                         f" + settle {b['settle_ms']:.0f} + rest {b['rest_ms']:.0f} (database share"
                         f" {b['database_share_ms']:.0f}); {sql['statements']} SQL statements"
                         f" ({sql['statement_ms']:.0f} ms), {sql['orm_flushes']} ORM flushes"
                         f" ({sql['orm_flush_ms']:.0f} ms)")
            lines.append("      " + ", ".join(f"{k} x{v['statements']}" for k, v in sql["by_kind"].items()))
        calls = ", ".join(f"{m} {n:g}" for m, n in s["web_api_calls_per_sweep"].items())
        lines.append(f"  {d} Web API calls per sweep: {calls}")

    for d in dbs:
        e = r[d]["explain"]
        lines += ["", f"(d) {d}: claim query plan (partial index used: {'yes' if e['uses_partial_index'] else 'NO'})",
                  f"    {e['statement'][:150]}{'...' if len(e['statement']) > 150 else ''}"]
        lines += [f"    {line}" for line in e["plan"] if "Buffers:" not in line][:9]

    for d in dbs:
        seed = r[d]["seed"]
        rows = ", ".join(f"{k} {v:,}" for k, v in seed["rows"].items())
        lines.append(f"\nseeded {d} in {seed['seconds']:.1f} s: {rows}")
    if "ok" in r:
        lines.append("\nPostgreSQL against the target: " + ", ".join(f"{k}={v}" for k, v in r["ok"].items()))
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("sqlite", "postgresql"), default=None, help="one database only")
    parser.add_argument("--open", dest="main_size", type=int, default=10_000,
                        help="open incidents for (a) and (b) (default 10,000)")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None,
                        help="open incident counts for (c), comma-separated (default 1000,<--open>)")
    parser.add_argument("--due", type=int, default=100, help="due items (default 100, the sweeper's batch)")
    parser.add_argument("--reps", type=int, default=50, help="measured sweeps per figure of (a) (default 50)")
    parser.add_argument("--scale-reps", type=int, default=20, help="measured sweeps per other cell of (c)")
    parser.add_argument("--slack-reps", type=int, default=20, help="measured sweeps for (b) (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured sweeps before each figure")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the figures (default {RESULTS})")
    args = parser.parse_args(argv)
    args.sizes = sorted(set(args.sizes or [1000, args.main_size]) | {args.main_size})
    if args.due > 100 or args.due > args.sizes[0]:
        parser.error("--due must be at most 100 (one sweep's batch) and at most the smallest size")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    logging.getLogger().addHandler(ERRORS)
    started = time.monotonic()
    results = asyncio.run(run(args))
    results["seconds"] = round(time.monotonic() - started, 1)
    print(report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nran {results['seconds']:.0f} s; wrote {args.json}")


if __name__ == "__main__":
    main()
