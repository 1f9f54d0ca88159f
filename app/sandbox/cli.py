"""`python -m app sandbox [--port N] [--drill NAME] [--speed N]`: the bot against a fake Slack, in the browser."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import tempfile
from pathlib import Path

from app.sandbox.run import start_sandbox

log = logging.getLogger("app.sandbox")


def parse(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app sandbox",
                                     description="Try the bot in a local fake Slack workspace, in your browser.")
    parser.add_argument("--port", type=int, default=3000, help="where the page is served (default 3000)")
    return parser.parse_args(args)


async def run(options: argparse.Namespace) -> None:
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    with tempfile.TemporaryDirectory(prefix="incident-sandbox-") as directory:
        sandbox = await start_sandbox(Path(directory), port=options.port)
        try:
            print(f"Sandbox ready: open {sandbox.url}/ (Ctrl-C stops it; nothing is kept)", flush=True)
            await stopping.wait()
        finally:
            await sandbox.stop()


def main(args: list[str]) -> int:
    asyncio.run(run(parse(args)))
    return 0
