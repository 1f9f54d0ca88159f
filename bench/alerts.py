"""Alerts answered as soon as they are stored, under a storm.  From the repository root:

    .venv/bin/python -m bench.alerts                       # SQLite, about a minute
    .venv/bin/python -m bench.alerts --database-url postgresql://localhost/bench_alerts

100 distinct alerts (60 Alertmanager groups over 30 alertnames, 20 Sentry issues, 20 PagerDuty incidents over
4 services) and a repeat of each (200 requests) arrive over 5 s, signed as each sender signs them, over HTTP to
the real app, against the fake Slack of app/sandbox/fakeslack with Slack's rate-limit tiers on and the client pacing
itself to them, the shipped playbooks/alerts.yml deciding (its grouping and storm defaults). The generator runs
in the app's event loop, so its own work counts against the answers (a pessimistic figure).

Reported: every request answered (2xx), the answer's p50/p95/p99 (target p99 <= 200 ms), every alert on exactly one
incident's timeline, no duplicate channel, and how many incidents were opened (storms apart). Figures are
printed and written to bench/results/alerts.json.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from sqlalchemy import func, select

from app.alerts.models import AlertGroup
from app.alerts.routing import STORM
from app.clock import SystemClock
from app.duework.models import DueWork, WorkKind
from app.incidents.models import Incident, TimelineEvent
from app.main import start_runtime
from app.sandbox.fakeslack import FakeSlack
from app.settings import PROJECT_ROOT, Settings
from app.settings import database_url as normalise_database_url
from bench.declare import reset_postgres
from bench.harness import SIGNING_SECRET, serve

RESULTS = PROJECT_ROOT / "bench" / "results" / "alerts.json"
SAMPLES = PROJECT_ROOT / "tests" / "samples" / "alerts"
SENTRY_SECRET = "bench-sentry-secret-0123456789abcdef"
ALERTMANAGER_TOKEN = "bench-am-token-0123456789abcdef"
PAGERDUTY_SECRET = "bench-pd-secret-0123456789abcdef"


def _sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


def alertmanager(n: int) -> dict[str, Any]:
    payload = _sample("alertmanager-firing.json")
    name = f"BenchAlert{n // 2:02d}"  # two groups of each alertname: grouping folds them
    payload["groupKey"] = f'{{}}:{{alertname="{name}", instance="host-{n}"}}'
    payload["commonLabels"]["alertname"] = name
    for alert in payload["alerts"]:
        alert["labels"].update(alertname=name, instance=f"host-{n}")
        alert["annotations"]["summary"] = f"bench-alert-{n:03d} {name} on host-{n}"
    payload["commonAnnotations"]["summary"] = f"bench-alert-{n:03d} {name} on host-{n}"
    return payload


def sentry(n: int) -> dict[str, Any]:
    payload = _sample("sentry-event-alert.json")
    event = payload["data"]["event"]
    event.update(issue_id=str(2_000_000 + n), event_id=uuid.uuid4().hex, title=f"bench-alert-{n:03d} TimeoutError",
                 web_url=f"https://sentry.io/organizations/bench/issues/{2_000_000 + n}/")
    return payload


def pagerduty(n: int) -> dict[str, Any]:
    payload = _sample("pagerduty-incident-triggered.json")
    payload["event"]["id"] = uuid.uuid4().hex.upper()[:26]
    payload["event"]["occurred_at"] = datetime.now(UTC).isoformat()
    data = payload["event"]["data"]
    data.update(id=f"QBENCH{n:04d}", title=f"bench-alert-{n:03d} checkout slow",
                html_url=f"https://bench.pagerduty.com/incidents/QBENCH{n:04d}")
    data["service"]["summary"] = f"Service{n % 4}"
    return payload


def signed(source: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A fresh delivery of the payload (a repeat is a new delivery of the same alert)."""
    if source == "pagerduty":
        payload["event"]["id"] = uuid.uuid4().hex.upper()[:26]
        payload["event"]["occurred_at"] = datetime.now(UTC).isoformat()
    if source == "sentry":
        payload["data"]["event"]["event_id"] = uuid.uuid4().hex
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if source == "sentry":
        headers.update({"Sentry-Hook-Signature": hmac.new(SENTRY_SECRET.encode(), body, hashlib.sha256).hexdigest(),
                        "Sentry-Hook-Resource": "event_alert", "Sentry-Hook-Timestamp": str(int(time.time())),
                        "Request-ID": str(uuid.uuid4())})
    elif source == "alertmanager":
        headers["Authorization"] = f"Bearer {ALERTMANAGER_TOKEN}"
    else:
        digest = hmac.new(PAGERDUTY_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers["X-PagerDuty-Signature"] = f"v1={digest}"
    return body, headers


def alerts() -> list[tuple[str, dict[str, Any]]]:
    made = [("alertmanager", alertmanager(n)) for n in range(60)]
    made += [("sentry", sentry(n)) for n in range(60, 80)]
    made += [("pagerduty", pagerduty(n)) for n in range(80, 100)]
    # Interleaved as a storm arrives: the senders mixed, each alert's repeat a few alerts after it.
    made.sort(key=lambda pair: hashlib.sha256(json.dumps(pair[1], sort_keys=True).encode()).digest())
    return made


def playbooks(directory: Path, carol: str) -> Path:
    target = directory / "playbooks"
    shutil.copytree(PROJECT_ROOT / "playbooks", target)
    roster = yaml.safe_load((target / "oncall.yml").read_text())
    roster["rotation"]["primary"] = [carol]
    (target / "oncall.yml").write_text(yaml.safe_dump(roster))
    return target


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as directory:
        url = normalise_database_url(args.database_url) if args.database_url else \
            f"sqlite+aiosqlite:///{Path(directory) / 'incidents.db'}"
        if not url.startswith("sqlite"):
            await reset_postgres(url)
        async with FakeSlack(rate_limits=True) as fake:
            carol = fake.add_user("carol", real_name="Carol Chen")
            incidents_channel = fake.add_channel("incidents", members=[carol, fake.bot_user_id])
            settings = Settings(slack_bot_token=fake.bot_token, slack_signing_secret=SIGNING_SECRET,
                                slack_api_url=fake.api_url, database_url=url, incidents_channel=incidents_channel,
                                playbooks_dir=playbooks(Path(directory), carol), sweep_seconds=1.0,
                                environment={"SENTRY_CLIENT_SECRET": SENTRY_SECRET,
                                             "ALERTMANAGER_WEBHOOK_TOKEN": ALERTMANAGER_TOKEN,
                                             "PAGERDUTY_WEBHOOK_SECRET": PAGERDUTY_SECRET})
            runtime = await start_runtime(settings, clock=SystemClock())
            runner, base = await serve(runtime.web_app)
            runtime.sweeper.start()
            try:
                return await measure(runtime, fake, base, args)
            finally:
                # As the app stops (app/__main__.py): the sweep in flight finishes first. Cut off in the middle
                # of a statement, its SQLite connection can be left closing for ever, and the bench never exits.
                await runtime.sweeper.shutdown(timeout=10)
                await runner.cleanup()
                await runtime.close()


async def measure(runtime: Any, fake: FakeSlack, base: str, args: argparse.Namespace) -> dict[str, Any]:
    distinct = alerts()
    plan: list[tuple[str, dict[str, Any]]] = []
    for n, pair in enumerate(distinct):  # each repeat two slots after its first
        plan.append(pair)
        if n >= 1:
            plan.append(distinct[n - 1])
    plan.append(distinct[-1])
    spacing = args.seconds / len(plan)
    answers: list[tuple[int, float]] = []
    # aiohttp, not httpx: httpx's pool costs O(connections) per request, and the generator shares the loop.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=30)) as http:
        async def one(at: float, source: str, payload: dict[str, Any]) -> None:
            await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
            body, headers = signed(source, json.loads(json.dumps(payload)))
            sent = time.monotonic()
            try:
                async with http.post(f"{base}/alerts/{source}", data=body, headers=headers) as response:
                    await response.read()
                    answers.append((response.status, time.monotonic() - sent))
            except (aiohttp.ClientError, TimeoutError):
                answers.append((0, time.monotonic() - sent))

        started = time.monotonic()
        await asyncio.gather(*(one(n * spacing, s, p) for n, (s, p) in enumerate(plan)))
        arrived_over = time.monotonic() - started

    async def all_set_up() -> bool:
        async with runtime.db.transaction() as session:
            pending = await session.scalar(select(func.count()).select_from(DueWork).where(
                DueWork.kind == WorkKind.SETUP, DueWork.done_at.is_(None)))
        return pending == 0
    await fake.wait_for(all_set_up, timeout=600)
    set_up_in = time.monotonic() - started

    async with runtime.db.transaction() as session:
        incidents = list(await session.scalars(select(Incident).order_by(Incident.id)))
        storms = set(await session.scalars(select(AlertGroup.incident_id).where(AlertGroup.rule == STORM)))
        lines = list(await session.execute(select(TimelineEvent.incident_id, TimelineEvent.text).where(
            TimelineEvent.kind.in_(("detected", "alert")))))
    if args.verbose:
        for i in incidents:
            print(i.id, i.started_at, i.alert_source, i.title[:60])
    on: dict[str, set[int]] = defaultdict(set)
    count: dict[str, int] = defaultdict(int)
    for incident_id, line in lines:
        marker = line.split("bench-alert-", 1)[1][:3] if "bench-alert-" in line else None
        if marker:
            on[marker].add(incident_id)
            count[marker] += 1
    channels = [c for c in fake.channels.values() if c.name.startswith("incident-")]
    latencies = sorted(seconds * 1000 for status, seconds in answers if 200 <= status < 300)
    p95, p99 = (latencies[max(0, round(share * len(latencies)) - 1)] if latencies else None for share in (0.95, 0.99))
    return {
        "requests": len(plan), "arrived_over_s": round(arrived_over, 2),
        "answered_2xx": len(latencies), "not_answered_or_not_2xx": len(answers) - len(latencies),
        "answer_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "answer_p95_ms": round(p95, 1) if p95 is not None else None,
        "answer_p99_ms": round(p99, 1) if p99 is not None else None,
        "answer_max_ms": round(latencies[-1], 1) if latencies else None,
        "p99_within_200ms": p99 is not None and p99 <= 200,
        "alerts": len(distinct),
        "alerts_on_exactly_one_incident": sum(1 for m in on.values() if len(m) == 1),
        "alerts_on_more_than_one": sum(1 for m in on.values() if len(m) > 1),
        "alerts_missing": len(distinct) - len(on),
        "alert_lines": sum(count.values()),
        "incidents_opened": len(incidents), "storm_incidents": len(storms & {i.id for i in incidents}),
        "channels": len(channels), "duplicate_channels": len(channels) - len({i.channel_id for i in incidents
                                                                              if i.channel_id}),
        "incidents_without_channel": sum(1 for i in incidents if not i.channel_id),
        "all_set_up_after_s": round(set_up_in, 1),
        "ratelimited_429": dict(fake.ratelimited),
        "database": runtime.db.dialect,
        "load_average_1m": round(os.getloadavg()[0], 2),  # the 2-core machine's: others' work moves the tail
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="the 200 requests arrive over this long")
    parser.add_argument("--database-url", help="PostgreSQL to run against (default: a fresh SQLite file)")
    parser.add_argument("--verbose", action="store_true", help="list the incidents opened")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where the figures are written")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    figures = asyncio.run(run(args))
    print(json.dumps(figures, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
