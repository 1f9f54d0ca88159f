"""Detection: a health URL served on loopback that starts failing leads to exactly one incident,
declared through the real flow into the fake Slack. Probes are run by hand at the injected clock's
time (APScheduler runs the same `probe_if_due` every interval)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from sqlalchemy import func, select

from app.catalog.services import load_catalog
from app.detection.config import load_checks
from app.detection.detector import Outcome
from app.detection.models import FailedProbe, HealthCheckState
from app.detection.service import Verdict
from app.incidents.models import Incident, Severity, TimelineEvent
from app.incidents.policy import Policy, PolicyError
from app.main import start_runtime
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People, running_bot
from tests.support import ManualClock, SlackDriver, eventually, serve

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 30


@dataclass
class HealthEndpoint:
    """A service's /health on loopback: healthy until the test says otherwise."""

    url: str = ""
    healthy: bool = True
    hanging: bool = False
    requests: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def health(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.hanging:
            await self.release.wait()
        if self.healthy:
            return web.json_response({"status": "ok", "database": "up"})
        return web.json_response({"status": "down", "database": "unreachable"}, status=503)


@pytest.fixture
async def endpoint() -> AsyncIterator[HealthEndpoint]:
    health = HealthEndpoint()
    app = web.Application()
    app.router.add_get("/health", health.health)
    runner, url = await serve(app)
    health.url = f"{url}/health"
    yield health
    health.release.set()
    await runner.cleanup()


def api_check(url: str, **overrides: Any) -> dict[str, Any]:
    return {"name": "api", "url": url, "interval": f"{INTERVAL}s", "failures": 3, "timeout": 2,
            "title": "Health check failing: {name} ({status})", "severity": "P1", "type": "outage",
            "impact": "The API answers 503 to everyone", **overrides}


@asynccontextmanager
async def bot_with(settings: Settings, fake: FakeSlack, clock: ManualClock,
                   *checks: dict[str, Any]) -> AsyncIterator[SlackDriver]:
    (settings.playbooks_dir / "detection.yml").write_text(yaml.safe_dump({"checks": list(checks)}))
    async with running_bot(settings, fake, clock) as driver:
        yield driver


@pytest.fixture
async def bot(settings: Settings, fake: FakeSlack, clock: ManualClock,
              endpoint: HealthEndpoint) -> AsyncIterator[SlackDriver]:
    async with bot_with(settings, fake, clock, api_check(endpoint.url)) as driver:
        yield driver


async def probe(bot: SlackDriver, clock: ManualClock, name: str = "api") -> Outcome:
    clock.advance(seconds=INTERVAL)
    return await bot.runtime.detector.probe(bot.runtime.detector.check(name))


async def probes(bot: SlackDriver, clock: ManualClock, times: int) -> list[Verdict]:
    return [(await probe(bot, clock)).verdict for _ in range(times)]


async def incidents(bot: SlackDriver) -> list[Incident]:
    async with bot.runtime.db.transaction() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.id)))


async def timeline(bot: SlackDriver, incident: Incident, kind: str) -> list[TimelineEvent]:
    async with bot.runtime.db.transaction() as session:
        return list(await session.scalars(select(TimelineEvent).where(
            TimelineEvent.incident_id == incident.id, TimelineEvent.kind == kind).order_by(TimelineEvent.at)))


async def state(bot: SlackDriver, name: str = "api") -> tuple[HealthCheckState, int]:
    async with bot.runtime.db.transaction() as session:
        row = await session.get(HealthCheckState, name)
        kept = await session.scalar(select(func.count()).select_from(FailedProbe)
                                    .where(FailedProbe.check_name == name))
    assert row is not None
    return row, kept or 0


def incident_channels(fake: FakeSlack) -> list[str]:
    return sorted(c.name for c in fake.channels.values() if c.name.startswith("incident-"))


# -- declaring once -------------------------------------------------------------------------------


async def test_a_health_check_that_starts_failing_declares_exactly_one_incident(
        bot: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock, endpoint: HealthEndpoint) -> None:
    assert await probes(bot, clock, 3) == [Verdict.HEALTHY] * 3
    endpoint.healthy = False

    assert await probes(bot, clock, 2) == [Verdict.FAILING] * 2
    assert await incidents(bot) == []
    failing_since = clock.now()
    third = await probe(bot, clock)

    assert third.verdict is Verdict.DECLARE and third.declared is not None
    [incident] = await incidents(bot)
    assert (incident.kind, incident.severity, incident.title) == (
        "outage", Severity.P1, "Health check failing: api (503)")
    assert incident.impact == "The API answers 503 to everyone"
    assert incident.declared_by == fake.bot_user_id
    assert incident.commander == people.carol  # the primary on-call, not the bot
    channel = fake.channels[incident.channel_id]
    assert people.carol in channel.members
    assert "Health check failing: api (503)" in fake.messages_in(channel.id)[0].text
    assert any("Health check failing: api (503)" in m.text for m in fake.messages_in(people.incidents))
    failed = await timeline(bot, incident, "health_check_failed")
    assert [e.at for e in failed] == [failing_since + timedelta(seconds=s) for s in (-INTERVAL, 0, INTERVAL)]
    assert all("answered 503" in e.text and "unreachable" in e.text for e in failed)
    assert await timeline(bot, incident, "slack_step_failed") == []  # the bot never invited itself
    assert len(await timeline(bot, incident, "detected")) == 1

    assert await probes(bot, clock, 5) == [Verdict.DECLARED] * 5
    assert len(await incidents(bot)) == 1
    assert len(incident_channels(fake)) == 1


async def test_a_success_resets_the_count(bot: SlackDriver, clock: ManualClock, endpoint: HealthEndpoint) -> None:
    endpoint.healthy = False
    assert await probes(bot, clock, 2) == [Verdict.FAILING] * 2
    endpoint.healthy = True
    assert await probes(bot, clock, 1) == [Verdict.HEALTHY]
    assert (await state(bot))[0].consecutive_failures == 0

    endpoint.healthy = False
    assert await probes(bot, clock, 2) == [Verdict.FAILING] * 2
    row, kept = await state(bot)
    assert (row.consecutive_failures, kept, row.last_status) == (2, 2, "503")
    assert await incidents(bot) == []

    assert await probes(bot, clock, 1) == [Verdict.DECLARE]
    [incident] = await incidents(bot)
    assert len(await timeline(bot, incident, "health_check_failed")) == 3  # this streak's, not the earlier two
    assert (await state(bot))[1] == 0


async def test_after_resolution_new_failures_declare_again(
        bot: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock, endpoint: HealthEndpoint) -> None:
    endpoint.healthy = False
    await probes(bot, clock, 3)
    [first] = await incidents(bot)
    endpoint.healthy = True
    assert await probes(bot, clock, 1) == [Verdict.HEALTHY]
    [recovered] = await timeline(bot, first, "health_check_recovered")
    assert "answered 200 again after 3" in recovered.text

    await bot.command("resolve Connection pool exhausted | Raised the pool size", user=people.carol,
                      channel=first.channel_id)
    await eventually(lambda: _resolved(bot, first.id))
    endpoint.healthy = False
    assert await probes(bot, clock, 3) == [Verdict.FAILING, Verdict.FAILING, Verdict.DECLARE]

    opened = [i for i in await incidents(bot) if not i.is_resolved]
    assert [i.id for i in opened] != [first.id] and len(opened) == 1
    assert len(incident_channels(fake)) == 2


async def test_resolving_while_it_still_fails_needs_a_fresh_streak(
        bot: SlackDriver, people: People, clock: ManualClock, endpoint: HealthEndpoint) -> None:
    endpoint.healthy = False
    await probes(bot, clock, 4)
    [first] = await incidents(bot)
    await bot.command("resolve False alarm | The health check itself was wrong", user=people.carol,
                      channel=first.channel_id)
    await eventually(lambda: _resolved(bot, first.id))

    assert await probes(bot, clock, 3) == [Verdict.FAILING, Verdict.FAILING, Verdict.DECLARE]
    assert len(await incidents(bot)) == 2


async def _resolved(bot: SlackDriver, incident_id: int) -> bool:
    return any(i.id == incident_id and i.is_resolved for i in await incidents(bot))


# -- what counts as a failure ---------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_timeouts_and_refused_connections_are_failures(
        settings: Settings, fake: FakeSlack, clock: ManualClock, endpoint: HealthEndpoint) -> None:
    endpoint.hanging = True
    slow = api_check(endpoint.url, name="slow", timeout=0.02, failures=2, title="{name}: {status}")
    gone = api_check(f"http://127.0.0.1:{closed_port()}/health", name="gone", failures=2, severity="P2",
                     type=None, title="{name}: {status}")
    async with bot_with(settings, fake, clock, slow, gone) as bot:
        for _ in range(2):
            clock.advance(seconds=INTERVAL)
            outcomes = await bot.runtime.detector.probe_all()

        assert {o.check: o.verdict for o in outcomes} == {"slow": Verdict.DECLARE, "gone": Verdict.DECLARE}
        by_title = {i.title: i for i in await incidents(bot)}
        assert set(by_title) == {"slow: timed out after 0.02s", "gone: ConnectError"}
        assert by_title["gone: ConnectError"].kind is None
        assert by_title["gone: ConnectError"].severity is Severity.P2
        [slow_failure, _] = await timeline(bot, by_title["slow: timed out after 0.02s"], "health_check_failed")
        assert slow_failure.text == "slow: timed out after 0.02s"
        gone_failures = await timeline(bot, by_title["gone: ConnectError"], "health_check_failed")
        assert len(gone_failures) == 2 and all("ConnectError" in e.text for e in gone_failures)


async def test_an_unexpected_status_fails_and_an_expected_one_passes(
        settings: Settings, fake: FakeSlack, clock: ManualClock, endpoint: HealthEndpoint) -> None:
    endpoint.healthy = False
    down_is_fine = api_check(endpoint.url, expect_status=[200, "500-503"])
    async with bot_with(settings, fake, clock, down_is_fine) as bot:
        assert await probes(bot, clock, 3) == [Verdict.HEALTHY] * 3


# -- several replicas -----------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_replicas_probing_together_declare_once(
        settings: Settings, fake: FakeSlack, clock: ManualClock, endpoint: HealthEndpoint) -> None:
    (settings.playbooks_dir / "detection.yml").write_text(yaml.safe_dump({"checks": [api_check(endpoint.url)]}))
    endpoint.healthy = False
    async with AsyncExitStack() as stack:
        replicas = [await stack.enter_async_context(running_bot(settings, fake, clock)) for _ in range(3)]
        outcomes: list[Outcome] = []
        for _ in range(4):
            clock.advance(seconds=INTERVAL)
            outcomes += await asyncio.gather(*(r.runtime.detector.probe(r.runtime.detector.check("api"))
                                               for r in replicas))

        assert len([o for o in outcomes if o.declared is not None]) == 1
        assert len(await incidents(replicas[0])) == 1
        assert len(incident_channels(fake)) == 1
        [incident] = await incidents(replicas[0])
        assert len(await timeline(replicas[0], incident, "health_check_failed")) >= 3


@pytest.mark.both_databases
async def test_replicas_take_turns_probing(
        settings: Settings, fake: FakeSlack, clock: ManualClock, endpoint: HealthEndpoint) -> None:
    (settings.playbooks_dir / "detection.yml").write_text(yaml.safe_dump({"checks": [api_check(endpoint.url)]}))
    async with running_bot(settings, fake, clock) as first, running_bot(settings, fake, clock) as second:
        check = first.runtime.detector.check("api")
        both = [first.runtime.detector, second.runtime.detector]

        done = await asyncio.gather(*(d.probe_if_due(check) for d in both))
        assert len([o for o in done if o is not None]) == 1 and endpoint.requests == 1
        clock.advance(seconds=INTERVAL // 2 - 1)  # within half an interval: nobody probes again
        assert await asyncio.gather(*(d.probe_if_due(check) for d in both)) == [None, None]
        clock.advance(seconds=INTERVAL // 2 + 1)
        done = await asyncio.gather(*(d.probe_if_due(check) for d in both))
        assert len([o for o in done if o is not None]) == 1 and endpoint.requests == 2


async def test_the_scheduler_has_one_job_per_check_at_its_interval(
        settings: Settings, fake: FakeSlack, clock: ManualClock, endpoint: HealthEndpoint) -> None:
    checks = [api_check(endpoint.url), api_check(endpoint.url, name="checkout", interval="1m")]
    async with bot_with(settings, fake, clock, *checks) as bot:
        detector = bot.runtime.detector
        assert detector.scheduler is None  # tests are never probed behind their back
        detector.start()
        try:
            assert detector.scheduler is not None
            jobs = {job.id: job.trigger.interval.total_seconds() for job in detector.scheduler.get_jobs()}
            assert jobs == {"health-check-api": 30, "health-check-checkout": 60}
        finally:
            detector.stop()
        assert detector.scheduler is None


# -- the configuration ----------------------------------------------------------------------------


def shipped_kinds() -> set[str]:
    return set(Policy.load(ROOT / "playbooks").playbooks)


def test_the_shipped_file_has_no_checks_and_its_example_loads(tmp_path: Path) -> None:
    shipped = ROOT / "playbooks" / "detection.yml"
    assert load_checks(shipped, kinds=shipped_kinds()) == []

    lines = shipped.read_text().splitlines()
    start = lines.index("# checks:")
    example = [line[2:] for line in lines[start:] if line.startswith("# ")]
    (tmp_path / "detection.yml").write_text("\n".join(["checks:", *example[1:]]) + "\n")
    catalog = load_catalog(ROOT / "playbooks" / "services.yml", kinds=shipped_kinds())
    [check] = load_checks(tmp_path / "detection.yml", kinds=shipped_kinds(), services=catalog.keys())
    assert check.url == "https://agentguard-api.onrender.com/health" and check.service == "api"
    assert (check.kind, check.severity, check.failures, check.interval.total_seconds()) == ("outage", Severity.P0,
                                                                                            3, 30)
    assert check.accepts(204) and not check.accepts(301)
    assert check.title_for("503") == "Health check failing: api answers 503"


def test_defaults_fill_in_what_a_check_leaves_out(tmp_path: Path) -> None:
    path = tmp_path / "detection.yml"
    path.write_text(yaml.safe_dump({"checks": [{"name": "api", "url": "http://api.internal/health",
                                                 "type": "outage"}]}))
    [check] = load_checks(path, kinds={"outage"})

    assert (check.interval.total_seconds(), check.failures, check.timeout.total_seconds()) == (30, 3, 10)
    assert check.severity is None  # the outage playbook's default applies when it is declared
    assert check.accepts(200) and check.accepts(399) and not check.accepts(404)
    assert check.title_for("503") == "Health check failing: api"


GOOD = {"name": "api", "url": "http://api.internal/health", "interval": "30s", "severity": "P0", "type": "outage"}


@pytest.mark.parametrize("text, problem", [
    ("checks: [", "not valid YAML"),
    (yaml.safe_dump({"checks": GOOD}), "'checks' must be a list"),
    (yaml.safe_dump({"check": [GOOD]}), "'checks'"),
    (yaml.safe_dump({"checks": [{**GOOD, "interval": "30 seconds"}]}), "interval: '30 seconds'"),
    (yaml.safe_dump({"checks": [{**GOOD, "type": "outages"}]}), "'outages' is not a playbook"),
    (yaml.safe_dump({"checks": [{**GOOD, "severity": "P9"}]}), "'P9'"),
    (yaml.safe_dump({"checks": [{k: v for k, v in GOOD.items() if k != "url"}]}), "missing 'url'"),
    (yaml.safe_dump({"checks": [{**GOOD, "url": "api.internal/health"}]}), "not an http(s) URL"),
    (yaml.safe_dump({"checks": [{**GOOD, "failure": 3}]}), "unknown key 'failure' (did you mean 'failures'?)"),
    (yaml.safe_dump({"checks": [{**GOOD, "failures": 0}]}), "failures"),
    (yaml.safe_dump({"checks": [{**GOOD, "timeout": "1m"}]}), "timeout '1m'"),
    (yaml.safe_dump({"checks": [{**GOOD, "expect_status": "2xx"}]}), "'2xx'"),
    (yaml.safe_dump({"checks": [{**GOOD, "title": "{service} is down"}]}), "{service}"),
    (yaml.safe_dump({"checks": [{k: v for k, v in GOOD.items() if k not in ("severity", "type")}]}), "severity"),
    (yaml.safe_dump({"checks": [GOOD, GOOD]}), "used twice"),
])
def test_a_malformed_check_names_the_file_and_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "detection.yml"
    path.write_text(text)

    with pytest.raises(PolicyError) as raised:
        load_checks(path, kinds={"outage"})

    assert str(raised.value).startswith(f"{path}: ")
    assert problem in str(raised.value)
    assert "\n" not in str(raised.value)


async def test_a_malformed_detection_file_stops_start_up(settings: Settings) -> None:
    (settings.playbooks_dir / "detection.yml").write_text(yaml.safe_dump({"checks": [{**GOOD, "type": "outages"}]}))

    with pytest.raises(PolicyError) as raised:
        await start_runtime(settings)

    assert "detection.yml" in str(raised.value) and "check 1 (api)" in str(raised.value)


@pytest.mark.processes
def test_python_m_app_with_a_malformed_detection_file_says_so_in_one_line(tmp_path: Path) -> None:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    for source in (ROOT / "playbooks").rglob("*.yml"):
        target = playbooks / source.relative_to(ROOT / "playbooks")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text())
    (playbooks / "detection.yml").write_text(yaml.safe_dump({"checks": [{**GOOD, "interval": "often"}]}))
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLACK_")}
    env.update(SLACK_BOT_TOKEN="xoxb-123-456-abc", SLACK_SIGNING_SECRET="8f742231b10e8888abcd99yyyzzz85a5",
               PLAYBOOKS_DIR=str(playbooks), DATABASE_URL=f"sqlite:///{tmp_path / 'never.db'}")
    env.pop("INCIDENTS_CHANNEL", None)

    finished = subprocess.run([sys.executable, "-m", "app"], check=False, cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)

    assert finished.returncode != 0
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert "detection.yml" in lines[0] and "interval: 'often'" in lines[0]
    assert not (tmp_path / "never.db").exists()
