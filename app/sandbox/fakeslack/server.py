"""The fake Slack on loopback: the Web API, response_urls and the file-upload URL, over real HTTP.

``FakeSlack`` is the workspace state (state.Workspace) plus an aiohttp server and the knobs
tests turn: failure injection, latency, rate limits, a revoked token, and ``wait_for``.

It is at least as strict as Slack: every call is checked against the bot's scopes (from
manifest.yml unless ``scopes=`` says otherwise), the workspace's plan, and, when turned on,
Slack's rate-limit tiers.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import methods_chat, methods_conversations, methods_files, methods_misc, methods_views, socket_mode, spec
from .common import Args, SlackError
from .ratelimits import RateLimiter
from .scopes import manifest_scopes, refusal
from .state import Call, Workspace

HANDLERS = {
    **methods_conversations.HANDLERS,
    **methods_chat.HANDLERS,
    **methods_misc.HANDLERS,
    **methods_views.HANDLERS,
    **methods_files.HANDLERS,
}
RESPONSE_URL_USES = 5  # Slack accepts five posts to one response_url
POLL_SECONDS = 0.01

Answer = tuple[int, dict, dict[str, str]]  # HTTP status, JSON body, extra headers
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Hold:
    matches: Callable[[Call], bool]
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class Failure:
    status: int
    retry_after: int
    error: str | None

    def answer(self) -> Answer:
        if self.error:
            return 200, {"ok": False, "error": self.error}, {}
        if self.status == 429:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(self.retry_after)}
        return self.status, {"ok": False, "error": "internal_error"}, {}


class FakeSlack(Workspace):
    def __init__(self, bot_token: str = "xoxb-test", team_id: str = "T0001", *,
                 scopes: Iterable[str] | None = None, plan: str = "paid", rate_limits: bool = False,
                 app_token: str = "xapp-1-A0001-test") -> None:
        """``scopes``: the bot token's scopes, by default the ones manifest.yml asks for.
        ``app_token``: the app-level token apps.connections.open takes (socket_mode.py)."""
        self.app_token = app_token
        granted = tuple(scopes) if scopes is not None else manifest_scopes()
        super().__init__(bot_token=bot_token, team_id=team_id, scopes=granted, plan=plan)
        self.latency = 0.0
        self.ratelimited: Counter[str] = Counter()  # 429s the rate limiter answered, per method
        self._limiter: RateLimiter | None = RateLimiter() if rate_limits else None
        self._failures: dict[str, list[Failure]] = {}
        self._holds: list[Hold] = []
        self._response_uses: dict[str, int] = {}
        self._runner: web.AppRunner | None = None

    # lifecycle

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    async def start(self) -> FakeSlack:
        if self._runner is not None:
            return self
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._own_host_only])
        app.router.add_route("*", "/api/{method}", self._web_api)
        app.router.add_post("/response/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self._runner = runner
        return self

    @web.middleware
    async def _own_host_only(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A request addressed to another name (a page elsewhere that rebound its name to 127.0.0.1, to reach
        the sandbox's fake) is refused: only what was given this fake's address talks to it."""
        if request.headers.get("Host") != self.base_url.removeprefix("http://"):
            return web.json_response({"ok": False, "error": "misdirected_request"}, status=421)
        return await handler(request)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # knobs

    def fail(
        self, method: str, status: int = 429, retry_after: int = 1, times: int = 1, error: str | None = None
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with an error: ``error`` (HTTP 200), else HTTP ``status``."""
        self._failures.setdefault(method, []).extend([Failure(status, retry_after, error)] * times)

    def rate_limits(self, enabled: bool = True, *, speed: float = 1.0,
                    clock: Callable[[], float] = time.monotonic) -> None:
        """Turn Slack's rate-limit tiers on (fresh buckets) or off. ``speed=60`` makes a minute pass in a
        second; ``clock`` (seconds, monotonic) lets a test move time itself."""
        self._limiter = RateLimiter(speed=speed, clock=clock) if enabled else None

    def hold(self, matches: Callable[[Call], bool]) -> Hold:
        """The first call that `matches` takes effect at once but is answered only on `release`: the
        moment after Slack acted and before the client heard back (to kill the client then, say)."""
        hold = Hold(matches)
        self._holds.append(hold)
        return hold

    def revoke(self) -> None:
        """The bot token stops working, as when the app is uninstalled: every call answers account_inactive."""
        self.revoked = True

    def new_response_url(self) -> str:
        if not self.base_url:
            raise RuntimeError("start() the fake before asking for a response_url")
        key = secrets.token_urlsafe(12)
        self._response_uses[key] = 0
        return f"{self.base_url}/response/{key}"

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Poll ``predicate`` until it returns something truthy; fail the test with what happened otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            if loop.time() >= deadline:
                raise AssertionError(self._explain_timeout(predicate, timeout))
            await asyncio.sleep(POLL_SECONDS)

    def _explain_timeout(self, predicate: Callable[[], Any], timeout: float) -> str:
        try:
            what = inspect.getsource(predicate).strip()
        except (OSError, TypeError):
            what = repr(predicate)
        recent = [f"{c.method} {c.status} {_short(c.args)}" for c in self.calls[-10:]]
        return (
            f"fake Slack: condition not met within {timeout}s: {what}\n"
            f"last calls ({len(self.calls)} in all): {recent or 'none'}\n"
            f"violations: {self.violations or 'none'}"
        )

    # HTTP

    async def _web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, {}, time.monotonic())
        self.calls.append(call)
        try:
            args = await read_args(request)
        except SlackError as error:
            refused: Answer = 200, {"ok": False, "error": error.error}, {}
            status, body, headers = refused
        else:
            token = args.pop("token", None)
            call.args = dict(args)
            if self.latency:
                await asyncio.sleep(self.latency)
            status, body, headers = self._answer(method, args, _bearer(request) or token)
        call.status = status
        hold = next((h for h in self._holds if not h.reached.is_set() and h.matches(call)), None)
        if hold is not None:
            hold.reached.set()
            await hold.release.wait()
        return web.json_response(body, status=status, headers=headers)

    def _answer(self, method: str, args: Args, token: str | None) -> Answer:
        if method == socket_mode.METHOD:  # the app-level token's method: its own token rules
            return socket_mode.open_connection(app_token=self.app_token, token=token, revoked=self.revoked,
                                               base_url=self.base_url)
        if not spec.is_known(method):
            return self._violation(f"{method}: no such Web API method (not in Slack's spec nor the allow-list)",
                                   "unknown_method")
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token != self.bot_token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if self.revoked:
            return 200, {"ok": False, "error": "account_inactive"}, {}
        if self._limiter is not None:
            wait = self._limiter.retry_after(method, args.get_str("channel"))
            if wait is not None:
                self.ratelimited[method] += 1
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        if self._failures.get(method):
            return self._failures[method].pop(0).answer()
        missing = spec.missing_arguments(method, args)
        if missing:
            return self._violation(f"{method}: missing required argument(s) {', '.join(missing)}",
                                   "invalid_arguments", [f"[ERROR] missing required field: {m}" for m in missing])
        if spec.lacks_content(method, args):
            return self._violation(f"{method}: none of text, blocks, attachments given", "no_text")
        handler = HANDLERS.get(method)
        if handler is None:
            return self._violation(f"{method}: a real Slack method the fake does not implement",
                                   "fake_not_implemented")
        refused = refusal(self, method, args)
        if refused is not None:
            return 200, {"ok": False, "error": "missing_scope", "needed": refused.needed,
                         "provided": ",".join(refused.provided)}, {}
        if self.plan == "free" and method.startswith("usergroups."):
            return 200, {"ok": False, "error": "plan_upgrade_required"}, {}
        try:
            return 200, {"ok": True, **handler(self, args)}, {}
        except SlackError as error:
            return 200, {"ok": False, "error": error.error, **error.extra}, {}

    def _violation(self, text: str, error: str, messages: list[str] | None = None) -> Answer:
        self.violations.append(text)
        body: dict = {"ok": False, "error": error}
        if messages:
            body["response_metadata"] = {"messages": messages}
        return 200, body, {}

    async def _response_url(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if key not in self._response_uses:
            return web.json_response({"ok": False, "error": "expired_url"}, status=404)
        if self._response_uses[key] >= RESPONSE_URL_USES:
            self.violations.append(f"response_url used more than {RESPONSE_URL_USES} times: {request.url}")
            return web.json_response({"ok": False, "error": "used_url"}, status=404)
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        self._response_uses[key] += 1
        self.responses.append({"url": f"{self.base_url}/response/{key}", "payload": payload, "ts": self.next_ts()})
        return web.json_response({"ok": True})

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.pending_uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="file_not_found")
        if request.content_type == "multipart/form-data":
            field = (await request.post()).get("file")
            data = field.file.read() if isinstance(field, web.FileField) else str(field or "").encode()
        else:
            data = await request.read()
        upload["content"] = data
        return web.Response(text=f"OK - {len(data)}")


async def read_args(request: web.Request) -> Args:
    """Query string, then form or JSON body, merged: Slack reads arguments from all three."""
    args = Args(request.query)
    if request.content_type == "application/json":
        raw = await request.read()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise SlackError("invalid_json") from None
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        args.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            args[key] = value.file.read() if isinstance(value, web.FileField) else value
    return args


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _short(args: dict, limit: int = 120) -> str:
    text = json.dumps(args, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
