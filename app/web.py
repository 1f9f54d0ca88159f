"""HTTP: next to Bolt's endpoint for Slack, what whoever runs the bot needs (/health, /ready, /metrics)
and the review files behind their signed links."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from app.clock import Clock
from app.db import Database
from app.ops.logs import AccessLog
from app.ops.metrics import Metrics
from app.ops.readiness import Readiness, add_health_routes
from app.reviews.links import ReviewLinks
from app.reviews.web import REVIEW_ROUTE, review_markdown

SLACK_PATH = "/slack/events"


def runner(app: web.Application, **options: Any) -> web.AppRunner:
    """How the bot's HTTP is served (by `python -m app`, the tests and the benchmarks alike).

    The access log leaves out query strings (the links' signatures). Request bodies are not decompressed:
    no sender the bot serves compresses its requests (Slack, Alertmanager, Sentry, PagerDuty, the trackers),
    and aiohttp, draining a body nobody read, logs a corrupt one's decoding error as a 28-line traceback on
    any route: a way to write into the log without any secret. `options` are AppRunner's.
    """
    return web.AppRunner(app, access_log_class=AccessLog, auto_decompress=False, **options)


def add_routes(app: web.Application, db: Database, clock: Clock, *, readiness: Readiness, metrics: Metrics,
               links: ReviewLinks) -> web.Application:
    """The app's own routes, added to the aiohttp application that serves Bolt's endpoint."""
    app.middlewares.append(metrics.timing(SLACK_PATH))
    add_health_routes(app, readiness)
    app.router.add_get("/metrics", metrics.endpoint(db))
    app.router.add_get(REVIEW_ROUTE, review_markdown(db, links, clock))
    return app
