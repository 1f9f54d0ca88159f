"""`python -m app sandbox [--port N] [--drill NAME] [--speed N] [--playbooks DIR]`: the bot against a fake Slack,
in the browser; with a drill, its script plays on the drill's compressed clock (DIR/drills/NAME.yml).

--speed runs the sandbox's clock N times faster than the wall clock (a drill's own speed otherwise; 1 without
one), so a 30-minute reminder comes in 30 seconds at 60. --playbooks takes the playbooks explicitly: the sandbox
reads no setting from the environment (PLAYBOOKS_DIR included), and seals its copy of them all the same."""

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
MAX_SPEED = 3600.0  # an hour a second: beyond that each sweep is hours late for what falls due


def parse(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app sandbox",
                                     description="Try the bot in a local fake Slack workspace, in your browser.")
    parser.add_argument("--port", type=int, default=3000, help="where the page is served (default 3000)")
    parser.add_argument("--drill", metavar="NAME", help="play playbooks/drills/NAME.yml")
    parser.add_argument("--speed", type=positive, metavar="N",
                        help="one real second plays N seconds of the sandbox's time (default: the drill's speed, "
                             "else 1: real time)")
    parser.add_argument("--playbooks", type=Path, metavar="DIR", default=PROJECT_ROOT / "playbooks",
                        help="the playbooks to run (default: the project's playbooks/; PLAYBOOKS_DIR is not read "
                             "here); the sandbox runs a sealed copy of them")
    return parser.parse_args(args)


def positive(value: str) -> float:
    try:
        speed = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < speed <= MAX_SPEED:
        raise argparse.ArgumentTypeError(f"a speed is above 0 and at most {MAX_SPEED:g}")
    return speed


async def run(options: argparse.Namespace) -> None:
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    playbooks = options.playbooks.resolve()
    drill = load_drill(playbooks, options.drill, set(Policy.load(playbooks).playbooks)) if options.drill else None
    if drill and options.speed:
        drill = drill.model_copy(update={"speed": options.speed})
    speed = drill.speed if drill else options.speed or 1.0
    clock = CompressedClock(speed) if speed != 1 else None
    playing: asyncio.Task[None] | None = None
    with tempfile.TemporaryDirectory(prefix="incident-sandbox-") as directory:
        sandbox = await start_sandbox(Path(directory), port=options.port, clock=clock, playbooks=playbooks,
                                      sweep_seconds=0.5 if speed != 1 else 1.0)
        try:
            print(f"Sandbox ready: open {sandbox.url}/ (Ctrl-C stops it; nothing is kept)", flush=True)
            print(f"Playbooks: a sealed copy of {playbooks} (--playbooks DIR to run others; PLAYBOOKS_DIR is not "
                  f"read here)", flush=True)
            if speed != 1:
                print(f"Clock: one real second plays {speed:g} seconds of the sandbox's time (--speed)", flush=True)
            else:
                print("Clock: real time (--speed 60 makes a minute pass in a second)", flush=True)
            if drill and clock:
                who = "its first alert declares" if drill.by_alert else f"{drill.declared_by} declares"
                print(f"Drill {options.drill}: {who} now; one real second plays {drill.speed:g} seconds of the "
                      f"drill. Play the roles in the page.", flush=True)
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
