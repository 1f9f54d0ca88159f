"""What both fakes share: a loopback aiohttp server, an outage switch, the requests seen, webhook signing."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "trackers"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text())


class LoopbackTracker:
    def __init__(self, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret
        self.down = False  # every API request answers 503 while set
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API request, outages included
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def authorized(self, request: web.Request) -> bool:
        raise NotImplementedError

    def refuse(self) -> web.Response:
        raise NotImplementedError

    @web.middleware
    async def _gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if self.down:
            return web.Response(status=503, text="Service Unavailable")
        if not self.authorized(request):
            return self.refuse()
        return await handler(request)

    async def start(self) -> LoopbackTracker:
        app = web.Application(middlewares=[self._gate])
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()

    def calls(self, method: str, path_part: str) -> int:
        return sum(1 for m, p in self.requests if m == method and path_part in p)
