"""`python -m app`: serve Slack over HTTP on $PORT, or over Socket Mode when SLACK_APP_TOKEN is set.
`python -m app migrate`: bring the database to the latest schema and exit (a release step; needs only DATABASE_URL).
`python -m app sandbox`: try the bot in the browser against a local fake Slack (app/sandbox; needs no settings).

It does not start, in one line on stderr ("Cannot start: ...") and exit code 2, when a setting is wrong, a
policy file or template is broken, the database or Slack cannot be reached, Slack refuses the bot token (or,
over Socket Mode, the app token: apps.connections.open is asked once before serving), or PORT is taken.

SIGTERM or SIGINT (also while Socket Mode is still connecting) stops the bot gracefully (within STOP_WITHIN
seconds) and it exits 0: no new requests, requests in flight answered, the work of requests already answered
and the sweep in flight finished (work claimed but not started is given back), the detector stopped, the
database pool closed, and one line logged: "Stopped: ...".
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import signal
import sys
import time
from typing import TYPE_CHECKING

from app.db import Database, DatabaseUnreachable
from app.ops.logs import configure_logging
from app.settings import ConfigError, Settings, database_url, log_format, log_level

if TYPE_CHECKING:
    from aiohttp import web
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from app.main import Runtime

log = logging.getLogger("app")
STOP_WITHIN = 10.0  # seconds, all in: platforms send SIGKILL after their own grace period (Heroku 30 s, k8s 30 s)
REQUESTS_WITHIN = 3.0  # of those, for requests in flight: Slack gives up on an answer after 3 s anyway


async def serve(settings: Settings) -> str:
    """Serve until SIGTERM or SIGINT; returns how the stop went, for the one line that says so."""
    # The bot's own modules, imported when it serves: `python -m app migrate` (a release step) needs none of them.
    from aiohttp import web

    from app.main import start_runtime
    from app.slack.toolkit.startup import check_app_token, check_slack
    from app.web import runner as http_runner

    stopping = asyncio.Event()
    received: list[str] = []

    def stop_on(signum: signal.Signals) -> None:
        received.append(signum.name)
        stopping.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop_on, signum)

    async def ask_slack() -> None:
        await check_slack(settings.slack_bot_token, settings.slack_api_url)
        if settings.slack_app_token:
            await check_app_token(settings.slack_app_token, settings.slack_api_url)

    # Slack is asked after what is local (the plan, the templates) and the database are found sound.
    runtime = await start_runtime(settings, check_slack=ask_slack)
    loaded()
    runner = http_runner(runtime.web_app, shutdown_timeout=REQUESTS_WITHIN)
    await runner.setup()
    socket_mode = None
    try:
        try:
            await web.TCPSite(runner, host="0.0.0.0", port=settings.port).start()
        except OSError as error:
            raise PortUnusable(port_problem("PORT", settings.port, error)) from None
        log.info("Serving /slack/events, /health, /ready and /metrics on port %s", settings.port)
        runtime.sweeper.start()
        runtime.detector.start()
        if settings.slack_app_token:  # the websocket client, imported only for Socket Mode
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            socket_mode = AsyncSocketModeHandler(runtime.slack_app, settings.slack_app_token)
            # slack-sdk retries connecting forever: a signal meanwhile stops the bot rather than waiting on it.
            connecting = asyncio.ensure_future(socket_mode.connect_async())
            signalled = asyncio.ensure_future(stopping.wait())
            await asyncio.wait({connecting, signalled}, return_when=asyncio.FIRST_COMPLETED)
            if connecting.done():
                connecting.result()
                log.info("Connected to Slack over Socket Mode")
            else:
                connecting.cancel()
            signalled.cancel()
        await stopping.wait()
    finally:
        outcome = await stop(runtime, runner, socket_mode)
    return f"{received[0] if received else 'stopped'}; {outcome}"


class PortUnusable(Exception):
    """The port to serve on is taken or not ours to bind; the message says which and what to do."""


def port_problem(name: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"{name} {port} is in use by another program; stop it or choose another port"
    if error.errno == errno.EACCES:
        return f"{name} {port} needs privileges to bind; choose a port above 1023"
    return f"{name} {port} cannot be bound: {os.strerror(error.errno) if error.errno else error}"


async def stop(runtime: Runtime, runner: web.AppRunner, socket_mode: AsyncSocketModeHandler | None) -> str:
    """Stop taking work, let what is in flight finish (bounded), then let go of every resource."""
    started = time.monotonic()
    if socket_mode is not None:
        await socket_mode.close_async()
    runtime.detector.stop()
    sweeping = runtime.sweeper.sweeps_in_flight
    # All at once: the listener closes and requests in flight finish while the sweep in flight and the work
    # of requests already answered do (what does not finish is due work, done after the restart).
    settling = STOP_WITHIN - REQUESTS_WITHIN - 1
    await asyncio.gather(runner.cleanup(), runtime.sweeper.shutdown(timeout=settling),
                         runtime.slack.acks.finished(longest=settling))
    await runtime.close()
    return f"{sweeping} sweep(s) in flight settled or given back, pool closed, in {time.monotonic() - started:.1f} s"


async def migrate(url: str) -> None:
    database = Database(url)
    try:
        await database.migrate()
    finally:
        await database.close()


USAGE = "usage: python -m app [migrate | sandbox [--port N] [--drill NAME]]"


def loaded() -> None:
    """What start-up loaded (templates, playbooks, Bolt, SQLAlchemy) lives as long as the process: keep it out of
    the collector's way, so full collections don't stall acknowledgements (bench.declare), and turn the
    collector back on (app/__main__.py paused it while the modules were imported)."""
    gc.freeze()
    gc.enable()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["sandbox"]:
        return sandbox(args[1:])
    if args not in ([], ["migrate"]):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        configure_logging(log_level(os.environ.get("LOG_LEVEL")), log_format(os.environ.get("LOG_FORMAT")))
        if args == ["migrate"]:
            loaded()
            asyncio.run(migrate(database_url(os.environ.get("DATABASE_URL", "").strip() or None)))
            return 0
        return run_bot(Settings.from_env(os.environ))
    except (ConfigError, DatabaseUnreachable) as problem:
        return cannot_start(problem)
    except KeyboardInterrupt:
        return 0


def run_bot(settings: Settings) -> int:
    """`python -m app`: serve until a signal, or say in one line why it cannot start."""
    from app.incidents.policy import PolicyError  # with the bot's own modules (serve)
    from app.slack.toolkit.messages import TemplateProblem
    from app.slack.toolkit.startup import SlackUnusable

    try:
        how = asyncio.run(serve(settings))
    except (PolicyError, TemplateProblem, SlackUnusable, PortUnusable) as problem:
        return cannot_start(problem)
    log.info("Stopped: %s", how)
    return 0


def cannot_start(problem: Exception) -> int:
    print(f"Cannot start: {problem}", file=sys.stderr)
    return 2


def sandbox(args: list[str]) -> int:
    from app.incidents.policy import PolicyError
    from app.sandbox.cli import main as sandbox_main  # only the sandbox loads the fake Slack
    from app.slack.toolkit.messages import TemplateProblem

    loaded()
    configure_logging(log_level(os.environ.get("LOG_LEVEL") or "WARNING"), log_format(os.environ.get("LOG_FORMAT")))
    try:
        return sandbox_main(args)
    except (PolicyError, TemplateProblem) as problem:
        return cannot_start(problem)
    except KeyboardInterrupt:
        return 0
