"""Arbitrary requests nobody signed, to every HTTP route the bot serves (`python -m bench.fuzz --routes`).

    .venv/bin/python -m bench.fuzz --routes --examples 10000

Hypothesis draws each request: a route (/slack/events, /alerts/{source}, /trackers/{name}, the review and
insights links, /status, /status.json, /metrics, /health, /ready), a method (mostly the route's own), path
parameters, a query (with `expires`, `sig`, `window`...), headers (Slack's, the alert senders', any
Content-Type and Content-Encoding) and a body (bytes, text, JSON nested up to 100,000 deep, forms naming a
`response_url`, up to 900 KB). They are sent one at a time to the real bot (the fake Slack of
app/sandbox/fakeslack on loopback).

What counts (issue 17): no answer is a 5xx; the Slack workspace hears nothing (no Web API call, no post to a
response_url, no call to the loopback server every forged `response_url` points at); and each request adds
at most one line to the log besides its access-log line, each line bounded. Figures go to
bench/results/routes.json; the command exits 1 when one of these fails.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.main import start_runtime
from app.ops.logs import QUIET, TEXT_FORMAT
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from app.settings import database_url as normalise_database_url
from bench.declare import BenchClock
from bench.harness import SIGNING_SECRET, serve

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "routes.json"
ROUTES = {  # pattern: the method it serves
    "/slack/events": "POST", "/alerts/{source}": "POST", "/trackers/{name}": "POST",
    "/incidents/{incident_id}/review.md": "GET", "/insights": "GET", "/status": "GET", "/status.json": "GET",
    "/metrics": "GET", "/health": "GET", "/ready": "GET",
}
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
LINE_BOUND = 300  # characters: a refusal's line is about 80
ACCESS = "aiohttp.access"
HUGE = b"payload=" + b"A" * 900_000


class LogLines(logging.Handler):
    """The log as `python -m app` writes it at INFO (text format), counted line by line per logger."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter(TEXT_FORMAT))
        self.lines: list[tuple[str, int]] = []  # (logger, characters) of each line
        self.tracebacks = 0
        self.examples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        formatted = self.format(record)
        self.tracebacks += record.exc_info is not None
        for line in formatted.splitlines() or [""]:
            self.lines.append((record.name, len(line)))
        if (formatted.count("\n") or len(formatted) > LINE_BOUND) and len(self.examples) < 5:
            self.examples.append(formatted[:1500])


class Catcher:
    """Where every forged response_url points: it must never be called."""

    def __init__(self) -> None:
        self.hits = 0

    async def record(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.Response(text="ok")


# -- what a request may be ---------------------------------------------------------------------------

texts = st.text(max_size=40)
numbers = st.integers(-2**63, 2**63).map(str)
hexes = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
values = st.one_of(texts, numbers, hexes, st.just(""), st.just(str(int(time.time()))),
                   st.sampled_from(["7d", "30d", "90d", "nan", "inf", "1e309", "-0", "\x00"]))
PARAMETERS = {"source": ["alertmanager", "sentry", "pagerduty", "grafana", "nagios"],
              "name": ["jira", "github", "linear", "none"], "incident_id": ["1", "0", "-1", "99999999999999999999"]}


def nested(depth: int, form: bool = False) -> bytes:
    inner = b"[" * depth + b"]" * depth
    return b"payload=" + quote(inner).encode() if form else inner


def bodies(catcher_url: str) -> st.SearchStrategy[bytes]:
    slack_like = st.fixed_dictionaries({"type": st.sampled_from(["block_actions", "view_submission",
                                                                 "event_callback", "url_verification"]),
                                        "response_url": st.just(catcher_url),
                                        "user": st.fixed_dictionaries({"id": st.just("U00000001")}),
                                        "channel": st.fixed_dictionaries({"id": st.just("C00000001")})},
                                       optional={"challenge": texts, "token": texts})
    form = st.dictionaries(st.sampled_from(["payload", "command", "text", "response_url", "user_id", "channel_id",
                                            "trigger_id"]), values, max_size=6)
    json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | texts,
                               lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                               max_leaves=40)
    usual = st.one_of(
        st.binary(max_size=4000), texts.map(str.encode),
        json_values.map(lambda v: json.dumps(v).encode()),
        slack_like.map(lambda p: json.dumps(p).encode()),
        slack_like.map(lambda p: urlencode({"payload": json.dumps(p)}).encode()),
        st.builds(lambda f, p: urlencode({**f, "response_url": catcher_url, "payload": json.dumps(p)}).encode(),
                  form, slack_like),
        st.sampled_from([10, 1000, 100_000]).flatmap(lambda d: st.booleans().map(lambda f: nested(d, f))),
        st.sampled_from([b"\xff\xfe" * 10, b"payload=\xc3\x28", b'{"type": "\xff"}']),
    )
    return st.integers(0, 49).flatmap(lambda n: st.just(HUGE) if n == 0 else usual)  # 1 in 50: 900 KB


def headers() -> st.SearchStrategy[dict[str, bytes]]:
    names = st.sampled_from([
        "X-Slack-Request-Timestamp", "X-Slack-Signature", "X-Slack-Retry-Num", "X-Slack-Retry-Reason",
        "Authorization", "Sentry-Hook-Signature", "Sentry-Hook-Resource", "Sentry-Hook-Timestamp",
        "X-PagerDuty-Signature", "X-Hub-Signature-256", "X-Gitlab-Token", "Linear-Signature", "Content-Encoding",
    ])
    ascii_values = st.one_of(values, hexes.map(lambda h: f"v0={h}"), hexes.map(lambda h: f"v1={h}"),
                             texts.map(lambda t: f"Bearer {t}"), st.sampled_from(["gzip", "deflate", "br"]))
    return st.dictionaries(names, ascii_values.map(on_the_wire), max_size=6)


def on_the_wire(value: str) -> bytes:
    """What a client can send of this text as a header value: its UTF-8 bytes, no control characters."""
    return bytes(b for b in value.encode("utf-8", "surrogatepass") if b == 9 or (b >= 32 and b != 127)).strip()


@st.composite
def requests(draw: st.DrawFn, catcher_url: str) -> dict[str, Any]:
    pattern = draw(st.sampled_from(sorted(ROUTES)))
    method = draw(st.sampled_from([ROUTES[pattern]] * 6 + METHODS))
    path = pattern
    for name, known in PARAMETERS.items():
        if "{" + name + "}" in path:
            value = draw(st.one_of(st.sampled_from(known), texts.filter(bool)))
            path = path.replace("{" + name + "}", quote(value, safe=""))
    query = draw(st.lists(st.tuples(st.sampled_from(["expires", "sig", "window", "incident", "x"]) | texts, values),
                          max_size=4))
    content_type = draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain",
                                         "application/json; charset=latin-1", "multipart/form-data", ""]))
    body = draw(bodies(catcher_url)) if method not in ("GET", "HEAD") or draw(st.booleans()) else b""
    return {"route": pattern, "method": method, "path": path, "query": query,
            "headers": {"Content-Type": content_type, **draw(headers())}, "body": body}


# -- the run --------------------------------------------------------------------------------------------


def run(examples: int, database_url: str | None) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    tmp = tempfile.TemporaryDirectory()
    url = normalise_database_url(database_url or f"sqlite:///{tmp.name}/incidents.db")
    if not url.startswith("sqlite"):
        from bench.fuzz import fresh_postgres

        loop.run_until_complete(fresh_postgres(url))
    fake = FakeSlack(bot_token="xoxb-routes")
    loop.run_until_complete(fake.start())
    person = fake.add_user("alice", real_name="Alice Adams")
    incidents = fake.add_channel("incidents", members=[person, fake.bot_user_id])
    settings_ = Settings(slack_bot_token="xoxb-routes", slack_signing_secret=SIGNING_SECRET,
                         slack_api_url=fake.api_url, database_url=url, incidents_channel=incidents)
    settings_ = dataclasses.replace(settings_, environment={
        "SENTRY_CLIENT_SECRET": "5e1c0d9f6a7b4c3d8e2f1a0b9c8d7e6f",
        "ALERTMANAGER_WEBHOOK_TOKEN": "am-token-0123456789abcdef",
        "PAGERDUTY_WEBHOOK_SECRET": "pd-secret-ABCDEFGHIJKLMNOP0123"})
    catcher = Catcher()
    catcher_app = web.Application()
    catcher_app.router.add_route("*", "/{tail:.*}", catcher.record)
    catcher_runner, catcher_url = loop.run_until_complete(serve(catcher_app))
    runtime = loop.run_until_complete(start_runtime(settings_, clock=BenchClock()))
    runner, bot_url = loop.run_until_complete(serve(runtime.web_app))
    client = httpx.AsyncClient(base_url=bot_url, timeout=30)

    log = LogLines()
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for name in QUIET:  # as configure_logging does for `python -m app`
        logging.getLogger(name).setLevel(logging.WARNING)
    root.addHandler(log)

    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    server_errors: list[dict[str, Any]] = []
    client_failures: Counter[str] = Counter()
    most_lines = 0
    over: list[dict[str, Any]] = []

    async def send(request: dict[str, Any]) -> int | None:
        try:
            response = await client.request(request["method"], request["path"], params=request["query"],
                                            headers=request["headers"], content=request["body"])
        except httpx.HTTPError as error:  # the server hung up (never a good sign): counted apart
            client_failures[type(error).__name__] += 1
            return None
        return response.status_code

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        nonlocal most_lines
        request = data.draw(requests(f"{catcher_url}/forged"))
        before = len(log.lines)
        status = loop.run_until_complete(send(request))
        statuses[request["route"]][status or 0] += 1
        added = [line for line in log.lines[before:] if line[0] != ACCESS]
        most_lines = max(most_lines, len(added))
        summary = {"route": request["route"], "method": request["method"], "path": request["path"][:120],
                   "status": status, "body_bytes": len(request["body"]), "headers": list(request["headers"])}
        if status is not None and status >= 500 and len(server_errors) < 20:
            server_errors.append(summary)
        if (len(added) > 1 or any(n > LINE_BOUND for _, n in log.lines[before:])) and len(over) < 20:
            over.append({**summary, "lines": len(added), "loggers": sorted({name for name, _ in added})})

    started = time.monotonic()
    one()
    seconds = time.monotonic() - started
    loop.run_until_complete(asyncio.sleep(1))  # what a request might have set going (there should be nothing)
    root.removeHandler(log)
    slack_calls = len(fake.calls) + len(fake.responses)
    loop.run_until_complete(client.aclose())
    loop.run_until_complete(runner.cleanup())
    loop.run_until_complete(runtime.close())
    loop.run_until_complete(catcher_runner.cleanup())
    loop.run_until_complete(fake.stop())
    loop.close()
    tmp.cleanup()
    sent = sum(sum(c.values()) for c in statuses.values())
    by_route = {route: {str(k): v for k, v in sorted(c.items())} for route, c in sorted(statuses.items())}
    access = sum(1 for name, _ in log.lines if name == ACCESS)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "sqlite" if url.startswith("sqlite") else "postgresql",
        "examples": sent,
        "seconds": round(seconds, 1),
        "http_status_by_route": by_route,
        "http_5xx": sum(v for c in statuses.values() for k, v in c.items() if k >= 500),
        "http_5xx_by_route": {route: sum(v for k, v in c.items() if k >= 500) for route, c in sorted(statuses.items())
                              if any(k >= 500 for k in c)},
        "connection_failures": dict(client_failures),
        "first_5xx": server_errors,
        "slack_calls_from_unverified_requests": slack_calls,
        "forged_response_url_calls": catcher.hits,
        "log": {"lines": len(log.lines), "access_log_lines": access,
                "most_lines_per_request_besides_access_log": most_lines,
                "longest_line": max((n for _, n in log.lines), default=0),
                "tracebacks": log.tracebacks, "requests_over_one_bounded_line": over,
                "first_long_or_multiline_records": log.examples},
    }


def report(r: dict[str, Any]) -> str:
    lines = [
        f"routes fuzz: {r['examples']} unsigned requests on {r['database']} in {r['seconds']} s, {r['when']}",
        f"   HTTP 5xx: {r['http_5xx']} {r['http_5xx_by_route'] or ''}; connection failures: "
        f"{r['connection_failures'] or 0}",
        f"   Slack calls from unverified requests: {r['slack_calls_from_unverified_requests']}; "
        f"calls to forged response_urls: {r['forged_response_url_calls']}",
        f"   log: {r['log']['lines']} lines ({r['log']['access_log_lines']} access-log lines); at most "
        f"{r['log']['most_lines_per_request_besides_access_log']} line(s) per request besides its access-log line; "
        f"longest {r['log']['longest_line']} characters; {r['log']['tracebacks']} traceback(s)",
    ]
    for route, statuses in r["http_status_by_route"].items():
        lines.append(f"   {route}: {statuses}")
    for error in r["first_5xx"][:5]:
        lines.append(f"   5xx: {error}")
    for request in r["log"]["requests_over_one_bounded_line"][:5]:
        lines.append(f"   over one bounded line: {request}")
    for record in r["log"]["first_long_or_multiline_records"][:3]:
        lines.append("   --- " + record[:800].replace("\n", "\n       "))
    return "\n".join(lines)


def failed(r: dict[str, Any]) -> bool:
    return bool(r["http_5xx"] or r["slack_calls_from_unverified_requests"] or r["forged_response_url_calls"]
                or r["log"]["requests_over_one_bounded_line"])
