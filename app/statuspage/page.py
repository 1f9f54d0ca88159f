"""The bot's own public status page: GET /status (HTML) and GET /status.json."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.catalog.services import Catalog
from app.clock import Clock
from app.comms.status_page import StatusPageRules, public_status
from app.db import Database
from app.slack.toolkit.messages import duration, utc_time
from app.template_cache import compiled

TEMPLATE = "web/status.html.j2"


class StatusPage:
    """Read-only and public: it shows only approved updates of incidents that are not private."""

    def __init__(self, db: Database, clock: Clock, messages_dir: Path, rules: StatusPageRules,
                 catalog: Catalog | None = None) -> None:
        self.db = db
        self.rules = rules
        self.catalog = catalog  # the services whose components the page lists (playbooks/services.yml)
        self.clock = clock
        # HTML gets its own environment: autoescaped for HTML, unlike the Slack templates.
        self.env = Environment(loader=FileSystemLoader(messages_dir), autoescape=True, undefined=StrictUndefined,
                               trim_blocks=True, lstrip_blocks=True, bytecode_cache=compiled("html"))
        self.env.filters.update(utc=utc_time, duration=duration)
        self.env.get_template(TEMPLATE)  # a syntax error stops start-up, not the first visitor

    async def html(self, _request: web.Request) -> web.Response:
        async with self.db.transaction() as session:
            status = await public_status(session, now=self.clock.now(), rules=self.rules, catalog=self.catalog)
        page = self.env.get_template(TEMPLATE).render(status_page=status)
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "max-age=30"})

    async def json(self, _request: web.Request) -> web.Response:
        async with self.db.transaction() as session:
            status = await public_status(session, now=self.clock.now(), rules=self.rules, catalog=self.catalog)
        return web.json_response(status.as_json(), headers={"Cache-Control": "max-age=30",
                                                            "Access-Control-Allow-Origin": "*"})


def add_status_page(app: web.Application, page: StatusPage) -> None:
    app.router.add_get("/status", page.html)
    app.router.add_get("/status.json", page.json)
