"""GET /insights?window=...&expires=...&sig=...: the figures and their charts, only through the signed link
`/incident stats` gives (app/insights/links.py). Anything else is 404, as for reviews."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.catalog.services import Catalog
from app.clock import Clock
from app.db import Database
from app.insights.charts import Charts
from app.insights.figures import insights
from app.insights.links import INSIGHTS_PATH, InsightsLinks
from app.insights.policy import InsightsRules
from app.ops.refusals import refuse
from app.slack.toolkit.messages import duration, utc_time
from app.template_cache import compiled

TEMPLATE = "web/insights.html.j2"
# The page is whole in itself: its styles and SVG are inline, and it may load nothing from anywhere.
HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"}


class InsightsPage:
    def __init__(self, db: Database, clock: Clock, rules: InsightsRules, links: InsightsLinks,
                 messages_dir: Path, catalog: Catalog | None = None) -> None:
        self.db = db
        self.catalog = catalog  # the services and their teams the figures break down by
        self.clock = clock
        self.rules = rules
        self.links = links
        # HTML gets its own environment, autoescaped, as the status page's does.
        self.env = Environment(loader=FileSystemLoader(messages_dir), autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, bytecode_cache=compiled("html"))
        self.env.filters.update(utc=utc_time, duration=duration)
        self.env.get_template(TEMPLATE)  # a syntax error stops start-up, not the first visitor

    async def html(self, request: web.Request) -> web.Response:
        now = self.clock.now()
        name = self.links.window(request.query, now)
        window = self.rules.window(name) if name else None
        if window is None:  # unsigned, tampered with, expired, or a window the policy no longer offers
            return refuse(request, "link not signed, tampered with or expired", status=404, json=False)
        async with self.db.transaction() as session:
            figures = await insights(session, window, now=now, catalog=self.catalog)
        expires = datetime.fromtimestamp(int(request.query["expires"]), UTC)  # ASCII digits: links.allows saw them
        others = {other: self.links.path_until(other, expires) for other in self.rules.windows if other != name}
        charts = Charts(figures, say_duration=duration)
        # Drawing is CPU work of a few hundred milliseconds: off the event loop, so Slack is still answered.
        page = await asyncio.to_thread(self.env.get_template(TEMPLATE).render, insights=figures, charts=charts,
                                       other_windows=others, expires=expires)
        return web.Response(text=page, content_type="text/html", charset="utf-8", headers=HEADERS)


def add_insights_page(app: web.Application, page: InsightsPage) -> None:
    app.router.add_get(INSIGHTS_PATH, page.html)
