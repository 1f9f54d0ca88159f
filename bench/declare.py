"""How fast is `/incident declare`?  Run from the repository root:

    .venv/bin/python -m bench.declare                      # SQLite in a temp dir
    .venv/bin/python -m bench.declare --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

One run measures, against the fake Slack (tests/fakeslack) on loopback:

1. Acknowledgement latency: N signed `/incident declare P1 Bench incident <i>` slash commands at a fixed
   concurrency, timed to the HTTP response, first against a bare Bolt AsyncApp that only calls `ack()`
   (the baseline, measured first so that none of the bot's background work can disturb it), then against
   the real bot. Target: p99(bot) <= 1.3 x p99(bare).
2. Critical path: with the fake adding 50 ms to every Web API call, incidents declared one at a time;
   time from sending the command to the kickoff being posted in the new channel, in 50 ms round trips
   (target <= 3), and the Web API calls per incident (target <= 7).
3. Peak memory (max RSS) of this process, which holds the bot, the fake Slack and the load generator.

Figures are printed and written to bench/results/declare.json (`--json` to change).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import math
import platform
import pstats
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.runtime import Runtime, slack_client, start_runtime
from app.settings import Settings, database_url as normalise_database_url
from tests.fakeslack import FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-bench"
SLACK_PATH = "/slack/events"
RESULTS = Path(__file__).resolve().parent / "results" / "declare.json"

ACK_TARGET = 1.3  # p99(bot) / p99(bare)
ROUND_TRIP_TARGET = 3.0  # declare -> kickoff, in units of the fake's latency
CALLS_TARGET = 7  # Web API calls per declared incident
CRITICAL_LATENCY = 0.05  # seconds the fake adds to every Web API call in part 2
NOT_PER_INCIDENT = {"auth.test"}  # Bolt calls it once per process, not per incident

LISTENER_TASK = "run_ack_function_asynchronously"  # Bolt's task running a listener after the ack


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


# -- helpers ------------------------------------------------------------------------------------


class BenchClock:
    """The bot's clock: real UTC time, but every reading lands in a minute of its own.

    Channel names are incident-YYYYMMDD-HHMM; hundreds of declarations inside one real minute would
    turn the benchmark into a test of the name_taken retry loop (-2, -3, ... up to 50 attempts), which is
    not what it measures. Each reading is one minute later than the previous one.
    """

    def __init__(self) -> None:
        self._next = datetime.now(UTC).replace(second=0, microsecond=0)

    def now(self) -> datetime:
        now, self._next = self._next, self._next + timedelta(minutes=1)
        return now


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def max_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return rss / 1024 / (1024 if sys.platform == "darwin" else 1)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


def listener_tasks() -> list[asyncio.Task[Any]]:
    """Bolt listeners still running after their ack: the bot's background work."""
    return [t for t in asyncio.all_tasks() if not t.done() and LISTENER_TASK in t.get_coro().__qualname__]


async def wait_until(predicate: Any, timeout: float, what: str, poll: float = 0.005) -> float:
    started = time.monotonic()
    while not predicate():
        if ERRORS.count:
            raise RuntimeError(f"the bot logged {ERRORS.count} error(s) while waiting for {what}; "
                               f"the first:\n{ERRORS.first}")
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(poll)
    return time.monotonic() - started


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url, connect_args={"timeout": 5})
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@dataclass
class Workspace:
    fake: FakeSlack
    declarer: str
    incidents: str
    general: str

    def kickoffs_pinned(self) -> int:
        return sum(len(c.pins) for c in self.fake.channels.values())


class Commander:
    """Signs and sends `/incident` slash commands the way Slack does."""

    def __init__(self, ws: Workspace, url: str, concurrency: int, client: str = "httpx") -> None:
        self.ws = ws
        self.url = url
        self.verifier = SignatureVerifier(SIGNING_SECRET)
        self.client = client
        if client == "httpx":
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            self.http = httpx.AsyncClient(base_url=url, timeout=30, limits=limits)
        else:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                                 timeout=aiohttp.ClientTimeout(total=30))

    def request(self, text: str) -> tuple[bytes, dict[str, str]]:
        fake = self.ws.fake
        form = {
            "token": "legacy", "team_id": fake.team_id, "team_domain": "acme", "channel_id": self.ws.general,
            "channel_name": "general", "user_id": self.ws.declarer, "user_name": "alice", "command": "/incident",
            "text": text, "api_app_id": fake.app_id, "response_url": fake.new_response_url(),
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
        body = urlencode(form).encode()
        timestamp = str(int(time.time()))
        return body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=timestamp, body=body),
        }

    async def send(self, body: bytes, headers: dict[str, str]) -> bytes:
        """POST and read the whole answer (the acknowledgement)."""
        if self.client == "httpx":
            response = await self.http.post(SLACK_PATH, content=body, headers=headers)
            status, content = response.status_code, response.content
        else:
            async with self.session.post(self.url + SLACK_PATH, data=body, headers=headers) as answer:
                status, content = answer.status, await answer.read()
        if status != 200:
            raise RuntimeError(f"the app answered {status}: {content[:200]!r}")
        return content

    async def blast(self, first: int, count: int, concurrency: int) -> list[float]:
        """`count` declarations, `concurrency` in flight at any time; seconds to each acknowledgement."""
        numbers = iter(range(first, first + count))
        latencies: list[float] = []

        async def worker() -> None:
            for number in numbers:
                body, headers = self.request(f"declare P1 Bench incident {number}")
                started = time.perf_counter()
                await self.send(body, headers)
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies

    async def close(self) -> None:
        if self.client == "httpx":
            await self.http.aclose()
        else:
            await self.session.close()


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "n": len(latencies),
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p90_ms": ms(percentile(latencies, 0.90)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "max_ms": ms(max(latencies)),
        "mean_ms": ms(statistics.fmean(latencies)),
    }


# -- part 1: acknowledgement latency ------------------------------------------------------------


def bare_app(settings: Settings, http: aiohttp.ClientSession) -> AsyncApp:
    app = AsyncApp(client=slack_client(settings, http), signing_secret=SIGNING_SECRET, name="bare-bench")

    @app.command("/incident")
    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    return app


async def measure_acks(ws: Workspace, url: str, args: argparse.Namespace, first: int,
                       profile: cProfile.Profile | None) -> list[float]:
    commander = Commander(ws, url, args.concurrency, args.client)
    try:
        if args.warmup:
            await commander.blast(first, args.warmup, min(args.concurrency, args.warmup))
        if profile:
            profile.enable()
        latencies = await commander.blast(first + args.warmup, args.requests, args.concurrency)
        if profile:
            profile.disable()
        return latencies
    finally:
        await commander.close()


async def part_ack(ws: Workspace, runtime: Runtime, settings: Settings, args: argparse.Namespace,
                   profiles: dict[str, cProfile.Profile]) -> tuple[dict[str, Any], str, web.AppRunner]:
    """Baseline first, then the bot; returns the figures and the bot's URL (still served)."""
    http = aiohttp.ClientSession()
    runner, url = await serve(bare_app(settings, http).web_app(path=SLACK_PATH))
    try:
        bare = await measure_acks(ws, url, args, 0, profiles.get("bare"))
    finally:
        await runner.cleanup()
        await http.close()
    calls_before = len(ws.fake.calls)
    rss_after_bare = max_rss_mb()

    bot_runner, bot_url = await serve(runtime.web_app)
    started = time.monotonic()
    bot = await measure_acks(ws, bot_url, args, 0, profiles.get("bot"))
    blast_seconds = time.monotonic() - started
    declared = args.warmup + args.requests
    drain = await wait_until(lambda: ws.kickoffs_pinned() >= declared and not listener_tasks(), timeout=120,
                             what=f"{declared} kickoffs pinned and the bot's listeners finished")
    if profiles.get("bot"):
        profiles["bot"].disable()
    bot_calls = [c for c in ws.fake.calls[calls_before:] if c.method not in NOT_PER_INCIDENT]
    bare_s, bot_s = summary(bare), summary(bot)
    figures = {
        "order": "bare baseline first, then the bot (after the bare run; the bot's background work cannot "
                 "disturb the baseline)",
        "requests": args.requests, "concurrency": args.concurrency, "warmup": args.warmup, "client": args.client,
        "bare": bare_s, "bot": bot_s,
        "ratio_p50": round(bot_s["p50_ms"] / bare_s["p50_ms"], 2),
        "ratio_p99": round(bot_s["p99_ms"] / bare_s["p99_ms"], 2),
        "target_ratio_p99": ACK_TARGET,
        "bot_background": {
            "seconds_to_drain_after_last_ack": round(drain, 2),
            "seconds_blast_plus_warmup": round(blast_seconds, 2),
            "web_api_calls": len(bot_calls),
            "web_api_calls_per_incident": round(len(bot_calls) / declared, 2),
            "methods": dict(Counter(c.method for c in bot_calls).most_common()),
            "non_200": sum(1 for c in bot_calls if c.status != 200),
        },
        "max_rss_mb_after_bare": round(rss_after_bare, 1),
    }
    figures["ok"] = figures["ratio_p99"] <= ACK_TARGET
    return figures, bot_url, bot_runner


# -- part 2: critical path ------------------------------------------------------------------------


def waves(calls: list[Any], sent: float, gap: float) -> list[list[str]]:
    """Group calls that started together (within half a round trip): the sequential steps."""
    groups: list[list[str]] = []
    last = None
    for call in sorted(calls, key=lambda c: c.at):
        if last is None or call.at - last > gap:
            groups.append([])
        groups[-1].append(call.method)
        last = call.at
    return groups


async def part_critical(ws: Workspace, url: str, args: argparse.Namespace, first: int) -> dict[str, Any]:
    fake = ws.fake
    fake.latency = CRITICAL_LATENCY
    commander = Commander(ws, url, 1, args.client)
    incidents: list[dict[str, Any]] = []
    try:
        # one unmeasured declaration so the connection and every code path are warm
        for i in range(args.sequential + 1):
            await wait_until(lambda: not listener_tasks(), timeout=30, what="the previous declaration")
            channels_before = set(fake.channels)
            calls_before, responses_before = len(fake.calls), len(fake.responses)
            body, headers = commander.request(f"declare P1 Bench incident {first + i}")
            sent = time.monotonic()
            await commander.send(body, headers)
            acked = time.monotonic()
            await asyncio.sleep(0)  # let the listener task start before checking for it
            await wait_until(lambda: not listener_tasks(), timeout=30, what="the declaration to finish")
            finished = time.monotonic()
            calls = [c for c in fake.calls[calls_before:] if c.method not in NOT_PER_INCIDENT]
            new = [cid for cid in fake.channels if cid not in channels_before]
            if len(new) != 1:
                raise RuntimeError(f"expected one new channel, got {new}; calls: {[c.method for c in calls]}")
            kickoff_call = next(c for c in calls if c.method == "chat.postMessage" and c.args.get("channel") == new[0])
            kickoff_posted = kickoff_call.at + CRITICAL_LATENCY  # the fake sleeps, then stores the message
            if i == 0:
                continue
            incidents.append({
                "declare_to_kickoff_ms": ms(kickoff_posted - sent),
                "ack_ms": ms(acked - sent),
                "send_to_first_call_ms": ms(min(c.at for c in calls) - sent),
                "declare_to_done_ms": ms(finished - sent),
                "web_api_calls": len(calls),
                "response_url_posts": len(fake.responses) - responses_before,
                "methods": [c.method for c in sorted(calls, key=lambda c: c.at)],
                "timeline_ms": [(c.method, ms(c.at - sent)) for c in sorted(calls, key=lambda c: c.at)],
                "waves": waves(calls, sent, CRITICAL_LATENCY / 2),
                "kickoff_in_wave": 1 + _wave_of(calls, kickoff_call, sent),
            })
    finally:
        await commander.close()
        fake.latency = 0.0
    kickoff = [x["declare_to_kickoff_ms"] for x in incidents]
    median_kickoff = statistics.median(kickoff)
    median_calls = statistics.median(x["web_api_calls"] for x in incidents)
    typical = min(incidents, key=lambda x: abs(x["declare_to_kickoff_ms"] - median_kickoff))
    figures = {
        "latency_ms_per_call": ms(CRITICAL_LATENCY),
        "incidents": len(incidents),
        "declare_to_kickoff_ms": {"median": round(median_kickoff, 2), "min": min(kickoff), "max": max(kickoff)},
        "round_trips_to_kickoff": round(median_kickoff / ms(CRITICAL_LATENCY), 2),
        "target_round_trips": ROUND_TRIP_TARGET,
        "ack_ms_median": round(statistics.median(x["ack_ms"] for x in incidents), 2),
        "send_to_first_call_ms_median": round(statistics.median(x["send_to_first_call_ms"] for x in incidents), 2),
        "declare_to_done_ms_median": round(statistics.median(x["declare_to_done_ms"] for x in incidents), 2),
        "web_api_calls_per_incident": median_calls,
        "target_calls": CALLS_TARGET,
        "response_url_posts_per_incident": statistics.median(x["response_url_posts"] for x in incidents),
        "methods": typical["methods"],
        "waves": typical["waves"],
        "kickoff_in_wave": typical["kickoff_in_wave"],
        "typical_timeline_ms": typical["timeline_ms"],
        "per_incident": [{k: v for k, v in x.items() if k not in ("timeline_ms", "waves")} for x in incidents],
    }
    figures["ok"] = figures["round_trips_to_kickoff"] <= ROUND_TRIP_TARGET and median_calls <= CALLS_TARGET
    return figures


def _wave_of(calls: list[Any], target: Any, sent: float) -> int:
    last, wave = None, -1
    for call in sorted(calls, key=lambda c: c.at):
        if last is None or call.at - last > CRITICAL_LATENCY / 2:
            wave += 1
        if call is target:
            return wave
        last = call.at
    raise ValueError("call not found")


# -- profile --------------------------------------------------------------------------------------


def by_package(profile: cProfile.Profile) -> dict[str, float]:
    """Own (tottime) CPU seconds grouped by where the code lives: a rough who-used-the-loop."""
    stats = pstats.Stats(profile)
    groups: Counter[str] = Counter()
    root = str(Path(__file__).resolve().parent.parent)
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if filename.startswith(root + "/app/"):
            key = "app"
        elif filename.startswith(root + "/tests/"):
            key = "fake slack (tests/)"
        elif filename.startswith(root + "/bench/"):
            key = "bench"
        elif "site-packages/" in filename:
            key = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif filename == "~":
            key = "builtins: " + function.split(" of ")[0].strip("<>")[:40]
        else:
            key = "stdlib: " + Path(filename).stem
        groups[key] += tottime
    return {k: round(v, 3) for k, v in groups.most_common(25)}


# -- the run ------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rss_start = max_rss_mb()
    tmp = tempfile.TemporaryDirectory(prefix="bench-declare-")
    url = normalise_database_url(args.database_url) if args.database_url else \
        f"sqlite+aiosqlite:///{Path(tmp.name) / 'incidents.db'}"
    if not url.startswith("sqlite"):
        await reset_postgres(url)

    fake = FakeSlack(bot_token=BOT_TOKEN)
    await fake.start()
    declarer = fake.add_user("alice", real_name="Alice Adams")
    ws = Workspace(
        fake=fake, declarer=declarer,
        incidents=fake.add_channel("incidents", members=[declarer, fake.bot_user_id]),
        general=fake.add_channel("general", members=[declarer]),
    )
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.api_url,
                        database_url=url, incidents_channel=ws.incidents)
    profiles = {"bare": cProfile.Profile(), "bot": cProfile.Profile()} if args.profile else {}

    runtime = await start_runtime(settings, clock=BenchClock())
    bot_runner = None
    try:
        ack, bot_url, bot_runner = await part_ack(ws, runtime, settings, args, profiles)
        rss_after_ack = max_rss_mb()
        critical = await part_critical(ws, bot_url, args, args.warmup + args.requests)
    finally:
        if bot_runner is not None:
            await bot_runner.cleanup()
        await runtime.close()
        await fake.stop()
        tmp.cleanup()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": runtime.db.dialect,
        "database_url": url if not url.startswith("sqlite") else "sqlite+aiosqlite:///<tmp>/incidents.db",
        "python": platform.python_version(),
        "cpus": __import__("os").cpu_count(),
        "ack": ack,
        "critical_path": critical,
        "memory": {
            "max_rss_mb": round(max_rss_mb(), 1),
            "max_rss_mb_at_start": round(rss_start, 1),
            "max_rss_mb_after_ack_runs": round(rss_after_ack, 1),
            "note": "one process: the bot, the bare app, the fake Slack and the load generator",
        },
        "violations": list(fake.violations),
    }
    if profiles:
        results["profile_cpu_seconds_by_package"] = {name: by_package(p) for name, p in profiles.items()}
    return results


def report(r: dict[str, Any]) -> str:
    a, c, m = r["ack"], r["critical_path"], r["memory"]
    mark = lambda ok: "ok" if ok else "MISSED"  # noqa: E731
    bg = a["bot_background"]
    lines = [
        f"/incident declare benchmark — {r['database']}, Python {r['python']}, {r['cpus']} CPUs, {r['when']}",
        "",
        f"1. Acknowledgement latency ({a['requests']} requests, concurrency {a['concurrency']}, "
        f"{a['warmup']} warm-up, {a['client']} client; baseline measured first)",
        f"   {'':<22}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}",
        f"   {'bare Bolt (ack only)':<22}{a['bare']['p50_ms']:>7.1f}ms{a['bare']['p90_ms']:>7.1f}ms"
        f"{a['bare']['p99_ms']:>7.1f}ms{a['bare']['max_ms']:>7.1f}ms",
        f"   {'incident bot':<22}{a['bot']['p50_ms']:>7.1f}ms{a['bot']['p90_ms']:>7.1f}ms"
        f"{a['bot']['p99_ms']:>7.1f}ms{a['bot']['max_ms']:>7.1f}ms",
        f"   p99 bot / bare = {a['ratio_p99']:.2f}  (target <= {a['target_ratio_p99']})  {mark(a['ok'])}"
        f"   [p50 ratio {a['ratio_p50']:.2f}]",
        f"   background: {bg['web_api_calls_per_incident']} Web API calls/incident, "
        f"drained {bg['seconds_to_drain_after_last_ack']}s after the last ack",
        "",
        f"2. Critical path (fake adds {c['latency_ms_per_call']:.0f} ms per call; {c['incidents']} incidents "
        "one at a time)",
        f"   declare -> kickoff posted: median {c['declare_to_kickoff_ms']['median']:.1f} ms "
        f"(min {c['declare_to_kickoff_ms']['min']:.1f}, max {c['declare_to_kickoff_ms']['max']:.1f})",
        f"   = {c['round_trips_to_kickoff']:.2f} round trips  (target <= {c['target_round_trips']:.0f})"
        f"   kickoff in sequential wave {c['kickoff_in_wave']}",
        f"   Web API calls per incident: {c['web_api_calls_per_incident']:g}  (target <= {c['target_calls']})"
        f"   + {c['response_url_posts_per_incident']:g} response_url post(s)   {mark(c['ok'])}",
        f"   ack {c['ack_ms_median']:.1f} ms; first Slack call at {c['send_to_first_call_ms_median']:.1f} ms; "
        f"all done at {c['declare_to_done_ms_median']:.1f} ms",
        "   waves: " + "  ->  ".join("[" + ", ".join(w) + "]" for w in c["waves"]),
        "",
        f"3. Peak memory (max RSS of this process): {m['max_rss_mb']:.1f} MB "
        f"(at start {m['max_rss_mb_at_start']:.1f} MB, after part 1 {m['max_rss_mb_after_ack_runs']:.1f} MB)",
    ]
    if r.get("violations"):
        lines += ["", f"fake Slack violations: {r['violations'][:5]}"]
    if r.get("profile_cpu_seconds_by_package"):
        lines += ["", "CPU seconds by package (cProfile tottime, measured requests only; bot until drained):"]
        for name, groups in r["profile_cpu_seconds_by_package"].items():
            total = sum(groups.values())
            top = ", ".join(f"{k} {v:.2f}" for k, v in list(groups.items())[:12])
            lines.append(f"   {name} (top-25 total {total:.2f}s): {top}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.declare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="measured declarations per app (default 200)")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight (default 20)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured declarations first (default 20)")
    parser.add_argument("--sequential", type=int, default=10,
                        help="incidents declared one at a time for the critical path (default 10)")
    parser.add_argument("--client", choices=("httpx", "aiohttp"), default="httpx",
                        help="load generator's HTTP client (default httpx; see bench/README.md on its tail)")
    parser.add_argument("--database-url", default=None,
                        help="default: a fresh SQLite file in a temp dir; a PostgreSQL URL has its schema "
                             "public dropped and recreated first")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the measured requests and report CPU by package (slows everything down)")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the figures (default {RESULTS})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    logging.getLogger().addHandler(ERRORS)
    results = asyncio.run(run(args))
    print(report(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
