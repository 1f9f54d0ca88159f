"""Starting the sandbox: the fake Slack, the bot against it, and the page, on one local port."""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from app.clock import Clock
from app.main import Runtime, start_runtime
from app.sandbox.client import Client
from app.sandbox.fakeslack import FakeSlack
from app.sandbox.runbooks import add_runbook_pages
from app.sandbox.sealed import LoopbackOnly, sandbox_environment
from app.sandbox.web import add_sandbox_routes
from app.sandbox.workspace import Workspace, build_workspace, sandbox_playbooks
from app.settings import PROJECT_ROOT, Settings
from app.web import runner as serving


@dataclass
class Sandbox:
    workspace: Workspace
    runtime: Runtime
    client: Client
    runner: web.AppRunner
    url: str
    alert_token: str  # Alertmanager's bearer token here: a drill's alerts carry it (app/sandbox/drills/play.py)

    @property
    def fake(self) -> FakeSlack:
        return self.workspace.fake

    async def stop(self) -> None:
        await self.client.close()
        await self.runtime.sweeper.shutdown(timeout=2)
        await self.runner.cleanup()
        await self.runtime.close()
        await self.fake.stop()


async def start_sandbox(directory: Path, *, port: int = 0, database_url: str | None = None,
                        clock: Clock | None = None, playbooks: Path = PROJECT_ROOT / "playbooks",
                        sweep_seconds: float = 1.0) -> Sandbox:
    """Everything runs in this process; `directory` holds the database and the sandbox's copy of the playbooks.

    Sealed (app/sandbox/sealed.py): the settings are written out here, never read from the environment, and
    the runtime's environment is the sandbox's own, empty; its outgoing HTTP reaches loopback hosts only."""
    # The page's port is taken first, so the bot's links (reviews, insights, bookmarks) carry its address.
    listening = socket.create_server(("127.0.0.1", port))
    url = f"http://127.0.0.1:{listening.getsockname()[1]}"
    # A token nobody can guess: another page that finds the fake's port still cannot call its API.
    fake = await FakeSlack(bot_token=f"xoxb-sandbox-{secrets.token_hex(16)}").start()
    workspace = build_workspace(fake)
    signing_secret = secrets.token_hex(16)
    alert_token = secrets.token_hex(16)  # the sandbox's own, like its signing secret: a drill sends its alerts
    settings = Settings(slack_bot_token=fake.bot_token, slack_signing_secret=signing_secret,
                        slack_api_url=fake.api_url,
                        database_url=database_url or f"sqlite+aiosqlite:///{directory / 'sandbox.db'}",
                        incidents_channel=workspace.incidents, port=port, sweep_seconds=sweep_seconds,
                        public_url=url, environment=sandbox_environment(alert_token),
                        playbooks_dir=sandbox_playbooks(playbooks, directory, workspace, url))
    runtime = await start_runtime(settings, clock=clock, http_transport=LoopbackOnly())
    client = Client(fake, url, signing_secret)  # it sends nothing before the page is served
    add_sandbox_routes(runtime.web_app, workspace, client, port=listening.getsockname()[1], clock=runtime.clock)
    add_runbook_pages(runtime.web_app, runtime.policy.playbooks)
    runner = serving(runtime.web_app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, listening).start()
    runtime.sweeper.start()
    return Sandbox(workspace, runtime, client, runner, url, alert_token)
