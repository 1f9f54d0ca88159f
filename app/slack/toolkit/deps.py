"""What every feature of the Slack adapter is given: one frozen set of dependencies, built once by
app/slack/bootstrap.py and handed to each feature's `register(app, deps)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from app.clock import Clock
from app.db import Database
from app.duework.models import WorkKind
from app.inbox.service import EventClaims
from app.incidents.policy import Policy
from app.insights.links import InsightsLinks
from app.oncall.pagers import Pager, Pagers
from app.oncall.roster import Roster
from app.reviews.links import ReviewLinks
from app.slack.toolkit.acks import Acknowledgements
from app.slack.toolkit.messages import Messages
from app.slack.toolkit.summary import IncidentSummary
from app.statuspage.hosted import HostedStatusPage
from app.trackers.config import TrackerRules
from app.trackers.issues import Tracker

FireNow = Callable[[int, list[WorkKind]], Awaitable[Any]]


@dataclass(frozen=True)
class Integrations:
    """The services outside Slack the features reach, each chosen by its kind's selector (`connect`): the pagers
    (app/oncall), the tracker (app/trackers), the hosted status page (app/statuspage)."""

    pagers: Pagers
    tracker_rules: TrackerRules
    tracker: Tracker | None = None
    statuspage: HostedStatusPage | None = None
    # The catalog's services paged through a PagerDuty service of their own (playbooks/services.yml), by key.
    service_pagers: Mapping[str, Pager] = field(default_factory=dict)


@dataclass(frozen=True)
class Links:
    """Signed links to the pages the bot serves over HTTP."""

    reviews: ReviewLinks
    insights: InsightsLinks


@dataclass(frozen=True)
class Deps:
    db: Database
    clock: Clock
    client: AsyncWebClient
    messages: Messages
    policy: Policy
    roster: Roster
    integrations: Integrations
    links: Links
    acks: Acknowledgements  # app.main serves Slack's endpoint through its middleware
    summary: IncidentSummary  # the kickoff, topic and announcement every feature keeps current
    # Fire an incident's due work of these kinds now, not at the next sweep (a declaration's setup, an
    # approved status-page update).
    fire_now: FireNow
    # Called after every change an incident shows; quick: the Home tabs are drawn again in the background.
    changed: Callable[[], Awaitable[None]]
    incidents_channel: str | None = None
    lease: timedelta = timedelta(minutes=1)  # the sweeper's: work left longer than this is anyone's
    single_process: bool = False  # SQLite: no other process is alive, so what an earlier one left is free at once
    # The Events API deliveries taken (app/slack/toolkit/deliveries.py): one for every event listener.
    event_claims: EventClaims = field(default_factory=EventClaims)
