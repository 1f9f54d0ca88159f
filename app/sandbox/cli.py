"""`python -m app sandbox [--port N] [--drill NAME]`: the bot against a fake Slack, in the browser; with a drill,
its script plays on the drill's compressed clock (playbooks/drills/NAME.yml)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import signal
import sys
import tempfile
from pathlib import Path

from app.incidents.policy import Policy
from app.sandbox.drills.model import load_drill
from app.sandbox.drills.play import CompressedClock, DrillRun
from app.sandbox.run import start_sandbox
from app.settings import PROJECT_ROOT

log = logging.getLogger("app.sandbox")


def parse(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app sandbox",
                                     description="Try the bot in a local fake Slack workspace, in your browser.")
    parser.add_argument("--port", type=int, default=3000, help="where the page is served (default 3000)")
    parser.add_argument("--drill", metavar="NAME", help="play playbooks/drills/NAME.yml")
    return parser.parse_args(args)


async def run(options: argparse.Namespace) -> None:
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    playbooks = PROJECT_ROOT / "playbooks"
    drill = load_drill(playbooks, options.drill, set(Policy.load(playbooks).playbooks)) if options.drill else None
    clock = CompressedClock(drill.speed) if drill else None
    playing: asyncio.Task[None] | None = None
    with tempfile.TemporaryDirectory(prefix="incident-sandbox-") as directory:
        sandbox = await start_sandbox(Path(directory), port=options.port, clock=clock, playbooks=playbooks,
                                      sweep_seconds=0.5 if drill else 1.0)
        try:
            print(f"Sandbox ready: open {sandbox.url}/ (Ctrl-C stops it; nothing is kept)", flush=True)
            if drill and clock:
                print(f"Drill {options.drill}: {drill.declared_by} declares now; one real second plays "
                      f"{drill.speed:g} seconds of the drill. Play the roles in the page.", flush=True)
                playing = asyncio.create_task(DrillRun(sandbox, drill, options.drill, clock).run())
                playing.add_done_callback(said_how_it_ended)
            await stopping.wait()
        finally:
            if playing is not None:
                playing.cancel()
            await sandbox.stop()


def said_how_it_ended(playing: asyncio.Task[None]) -> None:
    if playing.cancelled():
        return
    if playing.exception() is not None:
        log.error("The drill stopped", exc_info=playing.exception())
    else:
        print("The drill has ended: its report is in the incident's channel", flush=True)


def main(args: list[str]) -> int:
    options = parse(args)
    try:
        asyncio.run(run(options))
    except OSError as error:  # the page's port is bound first, before anything else starts (run.start_sandbox)
        if error.errno not in (errno.EADDRINUSE, errno.EACCES):
            raise
        taken = "is in use by another program" if error.errno == errno.EADDRINUSE else "needs privileges to bind"
        print(f"Cannot start: port {options.port} {taken}; choose another with --port N", file=sys.stderr)
        return 2
    return 0
