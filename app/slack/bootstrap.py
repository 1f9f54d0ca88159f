"""The Slack side put together: one frozen set of dependencies (toolkit/deps.py), handed to each feature's
`register(app, deps)`; the commands and kinds of due work each feature declares merged into one table each
(a command or a kind claimed twice stops start-up); the /incident command registered first (Bolt tries listeners in
order) and the fallbacks last."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app.clock import Clock
from app.db import Database
from app.incidents.policy import Policy
from app.oncall.roster import Roster
from app.slack import clock, closing, comms, declaring, home, incident, insights, reviews, services, timeline
from app.slack import commands as incident_command
from app.slack.app import create_slack_app, failed_after_ack, register_fallbacks
from app.slack.commands import Commands
from app.slack.declaring.automatic import SlackDeclarer
from app.slack.declaring.declarations import Declarations
from app.slack.reviews import Reviewing
from app.slack.toolkit.acks import Acknowledgements
from app.slack.toolkit.deps import Deps, FireNow, Integrations, Links
from app.slack.toolkit.due_work import SlackClockWorker
from app.slack.toolkit.feature import CommandHandler, Feature
from app.slack.toolkit.messages import Messages
from app.slack.toolkit.summary import IncidentSummary

FEATURES = (declaring, incident, clock, timeline, comms, reviews, closing, home, insights, services)


@dataclass(frozen=True)
class SlackSide:
    deps: Deps
    app: AsyncApp
    commands: Commands
    worker: SlackClockWorker
    declarer: SlackDeclarer
    features: tuple[Feature, ...]
    tracker_finished: Any  # Callable[[str, str], Awaitable[bool]] | None: an issue finished in the tracker


def merged(tables: list[Mapping[Any, Any]], what: str) -> dict[Any, Any]:
    """One table from every feature's; two features claiming the same key is a wiring mistake."""
    whole: dict[Any, Any] = {}
    for table in tables:
        for key, value in table.items():
            if key in whole:
                raise RuntimeError(f"{what} {key} is claimed by two features")
            whole[key] = value
    return whole


def build_slack(*, signing_secret: str, db: Database, clock_: Clock, client: AsyncWebClient, messages: Messages,
                policy: Policy, roster: Roster, integrations: Integrations, links: Links,
                incidents_channel: str | None, fire_now: FireNow, lease: timedelta,
                single_process: bool) -> SlackSide:
    tabs = home.HomeTab(db=db, clock=clock_, client=client, messages=messages, policy=policy, roster=roster)
    deps = Deps(db=db, clock=clock_, client=client, messages=messages, policy=policy, roster=roster,
                integrations=integrations, links=links, acks=Acknowledgements(failed=failed_after_ack(messages)),
                summary=IncidentSummary(client, messages, policy, incidents_channel), fire_now=fire_now,
                changed=tabs.soon, incidents_channel=incidents_channel, lease=lease, single_process=single_process)
    app = create_slack_app(signing_secret=signing_secret, client=client, messages=messages)
    # Bolt tries each listener's matcher in the order they were registered, building its arguments each time
    # (tens of microseconds apiece): /incident, what a burst of declarations is made of, is tried first, not
    # after every feature's buttons and forms. Its table is filled once each feature has declared its commands.
    declarations = Declarations(deps)
    table: dict[type, CommandHandler] = {}  # filled below, before anything is served
    commands = Commands(deps, table)
    incident_command.register(app, deps, commands, declarations)
    declared = declaring.register(app, deps, declarations)
    assert declared.declarer is not None
    features: tuple[Feature, ...] = (declared, *(feature.register(app, deps) for feature in FEATURES[1:]))
    table.update(merged([feature.commands for feature in features], "command"))
    register_fallbacks(app, deps)  # last: only what nothing above took
    worker = SlackClockWorker(client=client, messages=messages, policy=policy, pagers=integrations.pagers,
                              handlers=merged([feature.due_work for feature in features], "due work"),
                              cadences=merged([feature.cadences for feature in features], "cadence of"))
    tracker_finished = next((f.tracker_finished for f in features if isinstance(f, Reviewing)), None)
    return SlackSide(deps, app, commands, worker, declared.declarer, features, tracker_finished)
