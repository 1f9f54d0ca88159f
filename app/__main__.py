"""`python -m app`: serve Slack over HTTP on $PORT, or over Socket Mode when SLACK_APP_TOKEN is set.
`python -m app migrate`: bring the database to the latest schema and exit (a release step; needs only DATABASE_URL)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys

from aiohttp import web

from app.db import Database, DatabaseUnreachable
from app.incidents.policy import PolicyError
from app.main import start_runtime
from app.settings import ConfigError, Settings, database_url, log_level
from app.slack.messages import TemplateProblem

log = logging.getLogger("app")


async def serve(settings: Settings) -> None:
    runtime = await start_runtime(settings)
    # Everything loaded at start-up (templates, playbooks, Bolt, SQLAlchemy) lives as long as the process:
    # keep it out of the collector's way, so full collections don't stall acknowledgements (bench.declare).
    gc.freeze()
    runner = web.AppRunner(runtime.web_app)
    await runner.setup()
    await web.TCPSite(runner, host="0.0.0.0", port=settings.port).start()
    log.info("Serving /slack/events and /health on port %s", settings.port)
    runtime.sweeper.start()
    runtime.detector.start()
    socket_mode = None
    try:
        if settings.slack_app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            socket_mode = AsyncSocketModeHandler(runtime.slack_app, settings.slack_app_token)
            await socket_mode.connect_async()
            log.info("Connected to Slack over Socket Mode")
        await asyncio.Event().wait()
    finally:
        if socket_mode is not None:
            await socket_mode.close_async()
        await runner.cleanup()
        await runtime.close()


async def migrate(url: str) -> None:
    database = Database(url)
    try:
        await database.migrate()
    finally:
        await database.close()


USAGE = "usage: python -m app [migrate]"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["migrate"]):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        level = log_level(os.environ.get("LOG_LEVEL"))
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if level != "DEBUG":
            logging.getLogger("alembic").setLevel(logging.WARNING)  # app.db logs one line per migration
        if args == ["migrate"]:
            asyncio.run(migrate(database_url(os.environ.get("DATABASE_URL", "").strip() or None)))
        else:
            asyncio.run(serve(Settings.from_env(os.environ)))
    except (ConfigError, PolicyError, TemplateProblem, DatabaseUnreachable) as problem:
        print(f"Cannot start: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
