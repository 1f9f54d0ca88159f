"""The sandbox is sealed: it reads no credential, nothing it runs leaves this machine, and only its own page
drives it.

- No credential in: its settings are written out field by field (never `Settings.from_env`) and the runtime
  gets the sandbox's own environment (`sandbox_environment`: only the Alertmanager token it made up), so the
  SLACK_*, GITHUB_TOKEN, JIRA_*, PAGERDUTY_*, DATABASE_URL ... the shell exports are never read.
- Nothing out: its copy of the playbooks turns every integration off (`seal_playbooks`), and its outgoing
  HTTP goes through `LoopbackOnly`, which refuses a host that is not this machine before connecting: should
  an integration come back on, it still cannot reach anything but a loopback address.
- Only its page: every request must be addressed to 127.0.0.1:<port> or localhost:<port> (a page elsewhere
  that rebinds its own name to 127.0.0.1 sends its own name), come from that origin when a browser says
  where it comes from, and the page's POSTs must be JSON. Another site may send a form or text/plain
  without asking; JSON from another origin needs a preflight the sandbox never grants.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import httpx
import yaml
from aiohttp import web
from aiohttp.typedefs import Middleware

from app.alerts.routing import DEFAULT_SECRET_ENV
from app.ops.refusals import refuse

log = logging.getLogger("app.sandbox")



def sandbox_environment(alert_token: str) -> Mapping[str, str]:
    """The sandbox's environment: no secret from outside, only the random bearer token Alertmanager's webhook
    takes here (its default variable, as alerts.yml without `sources:` reads it), so a drill can send alerts."""
    return MappingProxyType({DEFAULT_SECRET_ENV["alertmanager"]: alert_token})
PAGE_API = "/sandbox/"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class LeavesTheMachine(httpx.ConnectError):
    """A request to a host that is not loopback: refused before any connection, as if it were unreachable."""


class LoopbackOnly(httpx.AsyncBaseTransport):
    """The sandbox's outgoing HTTP (trackers, pager, health checks, status page): loopback hosts only."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not is_loopback(request.url.host):
            log.warning("The sandbox refused to call %s: nothing leaves this machine", request.url.host[:80])
            raise LeavesTheMachine(f"the sandbox calls nothing but this machine, not {request.url.host}",
                                   request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def seal_playbooks(playbooks: Path) -> None:
    """Turn off, in the sandbox's copy of the playbooks, every integration that would call out or need a secret:
    no tracker (trackers.yml), no health checks (detection.yml), every role paged in Slack (oncall.yml), no
    Statuspage.io (status_page.yml). alerts.yml keeps its rules but not its `sources:`, so a sender is accepted
    only when its default variable is in the sandbox's environment: Alertmanager's, with the sandbox's own random
    token (a drill's alerts carry it); the other senders are refused."""
    (playbooks / "trackers.yml").write_text("# The sandbox files action items nowhere: it is sealed.\n"
                                            "tracker: none\n", encoding="utf-8")
    (playbooks / "detection.yml").write_text("# The sandbox probes nothing: it is sealed.\nchecks: []\n",
                                             encoding="utf-8")
    oncall = playbooks / "oncall.yml"
    roster = yaml.safe_load(oncall.read_text(encoding="utf-8"))
    roster.pop("paging", None)  # every role paged the default way: in Slack, as no PagerDuty key is set
    oncall.write_text(yaml.safe_dump(roster), encoding="utf-8")
    # The sections that name secrets go: without them, an integration is on only when its variable is set.
    for name, section in (("status_page.yml", "statuspage_io"), ("alerts.yml", "sources")):
        path = playbooks / name
        if path.exists():
            rules = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if section in rules:
                del rules[section]
                path.write_text(yaml.safe_dump(rules), encoding="utf-8")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def own_page_only(port: int) -> Middleware:
    """A middleware for everything served on the sandbox's port: its own host, its own origin, JSON POSTs."""
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
    origins = {f"http://{host}" for host in hosts}

    @web.middleware
    async def sealed(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (request.headers.get("Host") or "").lower() not in hosts:
            return refuse(request, "not addressed to the sandbox's own host", status=403)
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in origins:
            return refuse(request, "from another origin than the sandbox's page", status=403)
        json = request.content_type == "application/json"
        if request.method == "POST" and request.path.startswith(PAGE_API) and not json:
            return refuse(request, "not JSON", status=415)
        return await handler(request)

    return sealed
