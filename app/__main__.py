"""`python -m app`: serve Slack over HTTP on $PORT, or over Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys

from aiohttp import web

from app.incidents.policy import PolicyError
from app.main import start_runtime
from app.settings import ConfigError, Settings
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


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(os.environ)
        asyncio.run(serve(settings))
    except (ConfigError, PolicyError, TemplateProblem) as problem:
        print(f"Cannot start: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
