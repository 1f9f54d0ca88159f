"""Wiring, the composition root: from settings to a running bot. Used by `python -m app`, the tests and the
benchmarks."""

from __future__ import annotations

import logging
import secrets
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

import aiohttp
import certifi
import httpx
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from app.alerts.connect import connect as connect_alert_sources
from app.alerts.receiver import AlertReceiver
from app.alerts.routing import load_alert_rules
from app.alerts.web import ALERTS_PREFIX, add_alert_routes
from app.alerts.words import AlertWords
from app.clock import Clock, SystemClock
from app.db import Database
from app.detection.config import load_checks
from app.detection.detector import DeclareIncident, Detector
from app.duework.models import WorkKind
from app.duework.sweeper import Sweeper
from app.incidents.affected import open_incidents_naming_unknown
from app.incidents.policy import Policy
from app.insights.links import InsightsLinks
from app.insights.web import InsightsPage, add_insights_page
from app.oncall.connect import pagers, routing_keys, service_pagers, service_routing_keys
from app.oncall.roster import DEFAULT_ROUTING_KEY_ENV, Roster
from app.ops.metrics import Metrics
from app.ops.outages import Outages
from app.ops.readiness import Readiness
from app.ops.slack_calls import SlackCalls
from app.reviews.links import ReviewLinks, link_key
from app.samples import sample_context
from app.settings import Settings
from app.slack.bootstrap import build_slack
from app.slack.clock.slack_pager import SlackPager
from app.slack.commands import Commands
from app.slack.toolkit.deps import Deps, Integrations, Links
from app.slack.toolkit.messages import Messages
from app.slack.toolkit.pacing import PacedWebClient, Pacer, WaitOutRateLimits
from app.slack.toolkit.signatures import verified_first
from app.statuspage.connect import connect as connect_status_page
from app.statuspage.page import StatusPage, add_status_page
from app.trackers.config import load_tracker_rules
from app.trackers.connect import connect as connect_tracker
from app.trackers.web import add_tracker_routes
from app.web import SLACK_PATH, add_routes

log = logging.getLogger(__name__)


def load_plan(settings: Settings) -> tuple[Policy, Roster, Messages]:
    """Read the playbooks and check every template; any problem stops start-up."""
    policy = Policy.load(settings.playbooks_dir)
    roster = Roster.load(settings.playbooks_dir / "oncall.yml")
    messages = Messages(settings.messages_dir, rules={"followup": policy.followup, "insights": policy.insights})
    messages.check_once(policy, sample_context)
    return policy, roster, messages


def integration_environment(settings: Settings) -> Mapping[str, str]:
    """Where the secrets the policy files name are read: the process's environment (Settings.environment), with
    PAGERDUTY_ROUTING_KEY as the settings hold it (checked there)."""
    environ = {name: value for name, value in settings.environment.items() if name != DEFAULT_ROUTING_KEY_ENV}
    if settings.pagerduty_routing_key:
        environ[DEFAULT_ROUTING_KEY_ENV] = settings.pagerduty_routing_key
    return environ


@cache
def trusted_certificates() -> ssl.SSLContext:
    """The one TLS context of the process's outgoing HTTPS to trackers, paging and status pages (reading the CA
    bundle takes tens of milliseconds; a context may be shared by any number of clients)."""
    return ssl.create_default_context(cafile=certifi.where())


def slack_client(settings: Settings, session: aiohttp.ClientSession | None = None,
                 observer: SlackCalls | None = None, pacing_speed: float = 1.0) -> AsyncWebClient:
    pacer = Pacer(speed=pacing_speed)
    return PacedWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        session=session,
        pacer=pacer,
        observer=observer,
        retry_handlers=[
            WaitOutRateLimits(pacer, max_retry_count=5, observer=observer),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


LISTENERS_WITHIN = 3.0  # seconds close() waits for listeners still at work after their answer


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    db: Database
    policy: Policy
    messages: Messages
    client: AsyncWebClient
    slack: Deps  # what every feature of the Slack side is given (app/slack/toolkit/deps.py)
    commands: Commands  # every /incident subcommand, to the feature that carries it out
    slack_app: AsyncApp
    web_app: web.Application
    sweeper: Sweeper
    detector: Detector
    metrics: Metrics
    review_links: ReviewLinks
    _http: aiohttp.ClientSession = field(repr=False)
    _httpx: httpx.AsyncClient = field(repr=False)

    async def close(self) -> None:
        self.sweeper.stop()
        self.detector.stop()
        await self.slack.acks.finished(longest=LISTENERS_WITHIN)  # before the pool they may still be using
        await self._http.close()
        await self._httpx.aclose()
        await self.db.close()


async def start_runtime(settings: Settings, clock: Clock | None = None,
                        http_transport: httpx.AsyncBaseTransport | None = None,
                        check_slack: Callable[[], Awaitable[object]] | None = None,
                        pacing_speed: float = 1.0) -> Runtime:
    """Everything the bot needs, ready to serve: plan loaded, templates checked, database migrated, then
    `check_slack` (what `python -m app` asks Slack before serving; tests leave it out).

    The Slack client keeps within Slack's rate limits (app/slack/toolkit/pacing.py); `pacing_speed` runs them
    that many times faster, for a fake Slack that limits nothing (the tests').

    The due-work sweeper is built but not started: `python -m app` starts it; tests sweep by hand.
    So is the health-check detector (playbooks/detection.yml): tests probe by hand.
    Each integration is chosen by its kind's selector (`connect`), from its policy file and the secrets it names
    in `settings.environment`; one named but not set stops start-up before anything is opened.
    """
    clock = clock or SystemClock()
    policy, roster, messages = load_plan(settings)
    environ = integration_environment(settings)
    keys = routing_keys(roster, settings.playbooks_dir / "oncall.yml", environ)
    keys_of_services = service_routing_keys(policy.services, settings.playbooks_dir / "services.yml", environ)
    checks = load_checks(settings.playbooks_dir / "detection.yml", kinds=policy.playbooks,
                         services=policy.services.keys())
    alerts_file = settings.playbooks_dir / "alerts.yml"
    alert_rules = load_alert_rules(alerts_file, kinds=policy.playbooks)
    senders = connect_alert_sources(alert_rules.sources, alerts_file, environ)
    tracker_file = settings.playbooks_dir / "trackers.yml"
    tracker_rules = load_tracker_rules(tracker_file)
    external = httpx.AsyncClient(transport=http_transport, timeout=10, verify=trusted_certificates())
    try:
        tracker, tracker_webhook = connect_tracker(tracker_rules, tracker_file, external, environ)
        statuspage = connect_status_page(policy.status_page, settings.playbooks_dir / "status_page.yml", external,
                                         environ)
    except BaseException:  # a secret one names is unset or weak: nothing else has been opened yet
        await external.aclose()
        raise
    db = Database(settings.database_url)
    try:
        await db.migrate()
        await say_services_gone(db, policy)
        if check_slack is not None:
            await check_slack()
    except BaseException:
        await external.aclose()
        await db.close()
        raise
    http = aiohttp.ClientSession()
    metrics = Metrics()
    client = slack_client(settings, http, metrics.slack, pacing_speed)
    links = ReviewLinks(review_link_key(settings), settings.public_url,
                        policy.followup.review.link_valid_for)
    insights_links = InsightsLinks(review_link_key(settings), settings.public_url,
                                   lifetime=policy.insights.link_valid)
    signing_secret = http_signing_secret(settings)
    lease = timedelta(seconds=settings.lease_seconds)
    # The single-process store: no other process can be alive, so what an earlier one held is free at once.
    alone = db.dialect == "sqlite"

    async def fire_now(incident_id: int, kinds: list[WorkKind]) -> int:
        # The sweeper is built below, once the Slack side has said what each kind of due work does.
        return await sweeper.fire_now(incident_id, kinds)

    slack = build_slack(
        signing_secret=signing_secret, db=db, clock_=clock, client=client, messages=messages, policy=policy,
        roster=roster, integrations=Integrations(
            pagers=pagers(roster, keys, environ, slack=SlackPager(client, messages), http=external,
                          events_url=settings.pagerduty_events_url), tracker_rules=tracker_rules,
            service_pagers=service_pagers(policy.services, keys_of_services, http=external,
                                          events_url=settings.pagerduty_events_url),
            tracker=tracker, statuspage=statuspage),
        links=Links(reviews=links, insights=insights_links), incidents_channel=settings.incidents_channel,
        fire_now=fire_now, lease=lease, single_process=alone)
    sweeper = Sweeper(db, clock, slack.worker, interval=settings.sweep_seconds, observer=metrics,
                      retries=policy.retries, lease=lease, outages=Outages(clock),
                      also=[sweep for feature in slack.features for sweep in feature.sweeps])
    if alone:
        await sweeper.take_over_left_work()
    slack_app = slack.app
    web_app = add_routes(slack_app.web_app(path=SLACK_PATH), db, clock, metrics=metrics, links=links,
                         readiness=Readiness(db, clock, sweeper, metrics.slack))
    # Verified before it counts as waiting for an answer, and before Bolt parses it: app/slack/toolkit/signatures.py.
    web_app.middlewares.append(verified_first(SLACK_PATH, signing_secret))
    web_app.middlewares.append(slack.deps.acks.middleware(SLACK_PATH, also=(ALERTS_PREFIX,)))
    add_status_page(web_app, StatusPage(db, clock, settings.messages_dir, policy.status_page,
                                                   policy.services))
    add_insights_page(web_app, InsightsPage(db, clock, policy.insights, insights_links, settings.messages_dir,
                                                       policy.services))
    declarer = slack.declarer
    detector = Detector(db, clock, external, checks, declarer)
    receiver = AlertReceiver(db, clock, alert_rules, declarer, AlertWords(settings.messages_dir),
                             policy.acknowledgement)
    add_alert_routes(web_app, receiver, senders)
    if senders:
        await _ready_for_alerts(declarer)
    add_tracker_routes(web_app, tracker_webhook if slack.tracker_finished is not None else None,
                       slack.tracker_finished or _no_tracker,
                       db=db, clock=clock, deliveries=tracker_rules.deliveries)
    return Runtime(settings, clock, db, policy, messages, client, slack.deps, slack.commands, slack_app, web_app,
                   sweeper, detector, metrics, links, http, external)


async def _ready_for_alerts(declarer: DeclareIncident) -> None:
    """Who an alert's incident is declared by and commanded by, asked of Slack now rather than while the
    first alert's sender waits. Slack not answering is no reason not to start: the first alert asks again."""
    try:
        await declarer.ready()
    except Exception as error:
        log.warning("Could not ask Slack who declares for alerts (%s); the first alert asks again",
                    type(error).__name__)


async def _no_tracker(tracker: str, key: str) -> bool:
    return False


async def say_services_gone(db: Database, policy: Policy) -> None:
    """One line naming the open incidents that name services playbooks/services.yml no longer has: they keep
    the key, and people may want to put it back or name another."""
    async with db.transaction() as session:
        gone = await open_incidents_naming_unknown(session, list(policy.services.keys()))
    if gone:
        log.warning("Open incidents name services no longer in playbooks/services.yml: %s",
                    "; ".join(f"#{number} ({', '.join(keys)})" for number, keys in gone.items()))


def http_signing_secret(settings: Settings) -> str:
    """Over Socket Mode there may be no signing secret: then nothing that comes over HTTP verifies."""
    return settings.slack_signing_secret or secrets.token_hex(32)


def review_link_key(settings: Settings) -> bytes:
    fallback = settings.slack_signing_secret or settings.slack_app_token or settings.slack_bot_token
    return link_key(settings.link_secret, fallback)
