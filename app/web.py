"""HTTP: next to Bolt's endpoint for Slack, a health check for whoever runs the bot and the review files."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from app.db import Database
from app.reviews.web import REVIEW_ROUTE, review_markdown

log = logging.getLogger(__name__)
SLACK_PATH = "/slack/events"


def add_routes(app: web.Application, db: Database) -> web.Application:
    """The app's own routes, added to the aiohttp application that serves Bolt's endpoint."""

    async def health(_request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(db.ping(), timeout=5)
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            log.warning("Health check: database unavailable: %s", error)
            return web.json_response({"status": "unavailable", "database": "down"}, status=503)
        return web.json_response({"status": "ok", "database": "up"})

    app.router.add_get("/health", health)
    app.router.add_get(REVIEW_ROUTE, review_markdown(db))
    return app
