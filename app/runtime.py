"""Wiring: from settings to a running bot. Used by `python -m app`, the tests and the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from app.clock import Clock, SystemClock
from app.db import Database
from app.incidents.policy import Policy
from app.samples import sample_context
from app.settings import Settings
from app.slack.app import create_slack_app
from app.slack.flows import IncidentFlows
from app.slack.messages import Messages
from app.web import create_web_app


def load_plan(settings: Settings) -> tuple[Policy, Messages]:
    """Read the playbooks and check every template; either problem stops start-up."""
    policy = Policy.load(settings.playbooks_dir)
    messages = Messages(settings.messages_dir)
    messages.check(sample_context(policy))
    return policy, messages


def slack_client(settings: Settings, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    return AsyncWebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    db: Database
    policy: Policy
    messages: Messages
    client: AsyncWebClient
    flows: IncidentFlows
    slack_app: AsyncApp
    web_app: web.Application
    _http: aiohttp.ClientSession = field(repr=False)

    async def close(self) -> None:
        await self._http.close()
        await self.db.close()


async def start_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """Everything the bot needs, ready to serve: plan loaded, templates checked, database migrated."""
    clock = clock or SystemClock()
    policy, messages = load_plan(settings)
    db = Database(settings.database_url)
    await db.migrate()
    http = aiohttp.ClientSession()
    client = slack_client(settings, http)
    flows = IncidentFlows(db=db, clock=clock, policy=policy, messages=messages, client=client,
                          incidents_channel=settings.incidents_channel)
    slack_app = create_slack_app(signing_secret=settings.slack_signing_secret, client=client, flows=flows)
    web_app = create_web_app(slack_app, db)
    return Runtime(settings, clock, db, policy, messages, client, flows, slack_app, web_app, http)
