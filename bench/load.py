"""The load generator: signed `/incident` slash commands at a fixed concurrency, timed to the HTTP response.

bench.declare runs it in a process of its own (so that its CPU does not compete with the app under test
for the same event loop), feeding it a JSON spec on stdin; it answers with the latencies on stdout.
It can also run inline, in the caller's event loop (`--generator inline` in bench.declare).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from slack_sdk.signature import SignatureVerifier

SLACK_PATH = "/slack/events"


@dataclass
class Spec:
    """Everything the generator needs to know; JSON-serialisable so it can cross a process boundary."""

    url: str
    signing_secret: str
    team_id: str
    api_app_id: str
    user_id: str
    channel_id: str
    response_urls: list[str]  # one per request: warm-up ones first
    first: int  # number of the first incident title
    warmup: int
    requests: int
    concurrency: int
    client: str = "httpx"  # or "aiohttp"
    services: int = 0  # how many services of its own each declaration names (bench.declare --services)


def service_keys(number: int, count: int) -> list[str]:
    """The services the `number`th declaration names: its own, so that no two are look-alikes (two open
    incidents naming the same service within the window are, whatever their titles)."""
    return [f"bench-{number}-{chr(ord('a') + i)}" for i in range(count)]


def declaration(spec: Spec, number: int) -> str:
    """The text of the `number`th declaration: a P1 with a title of its own, naming its services if any."""
    return " ".join(part for part in ("declare P1", ",".join(service_keys(number, spec.services)),
                                      f"Bench incident {number}") if part)


class Commander:
    """Signs and sends `/incident` slash commands the way Slack does."""

    def __init__(self, spec: Spec, concurrency: int | None = None) -> None:
        self.spec = spec
        self.verifier = SignatureVerifier(spec.signing_secret)
        concurrency = concurrency or spec.concurrency
        if spec.client == "httpx":
            limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
            self.http = httpx.AsyncClient(base_url=spec.url, timeout=30, limits=limits)
        else:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                                 timeout=aiohttp.ClientTimeout(total=30))

    def request(self, text: str, response_url: str) -> tuple[bytes, dict[str, str]]:
        spec = self.spec
        form = {
            "token": "legacy", "team_id": spec.team_id, "team_domain": "acme", "channel_id": spec.channel_id,
            "channel_name": "general", "user_id": spec.user_id, "user_name": "alice", "command": "/incident",
            "text": text, "api_app_id": spec.api_app_id, "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
        body = urlencode(form).encode()
        timestamp = str(int(time.time()))
        signature = self.verifier.generate_signature(timestamp=timestamp, body=body)
        if signature is None:  # slack_sdk makes none only without a timestamp
            raise RuntimeError("slack_sdk made no signature for the request")
        return body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }

    async def send(self, body: bytes, headers: dict[str, str]) -> bytes:
        """POST and read the whole answer (the acknowledgement)."""
        if self.spec.client == "httpx":
            response = await self.http.post(SLACK_PATH, content=body, headers=headers)
            status, content = response.status_code, response.content
        else:
            async with self.session.post(self.spec.url + SLACK_PATH, data=body, headers=headers) as answer:
                status, content = answer.status, await answer.read()
        if status != 200:
            raise RuntimeError(f"the app answered {status}: {content[:200]!r}")
        return content

    async def blast(self, first: int, count: int, concurrency: int, offset: int = 0) -> list[float]:
        """`count` declarations, `concurrency` in flight at any time; seconds to each acknowledgement."""
        numbers = iter(range(count))
        latencies: list[float] = []

        async def worker() -> None:
            for n in numbers:
                body, headers = self.request(declaration(self.spec, first + n), self.spec.response_urls[offset + n])
                started = time.perf_counter()
                await self.send(body, headers)
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies

    async def close(self) -> None:
        if self.spec.client == "httpx":
            await self.http.aclose()
        else:
            await self.session.close()


async def run(spec: Spec) -> dict[str, Any]:
    """Warm-up (unmeasured), then the measured requests: their latencies and how long they took in all."""
    commander = Commander(spec)
    try:
        if spec.warmup:
            await commander.blast(spec.first, spec.warmup, min(spec.concurrency, spec.warmup))
        started = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process on Linux
        latencies = await commander.blast(spec.first + spec.warmup, spec.requests, spec.concurrency,
                                          offset=spec.warmup)
        return {"latencies": latencies, "seconds": time.monotonic() - started,
                "window": [started, time.monotonic()]}
    finally:
        await commander.close()


def main() -> None:
    spec = Spec(**json.loads(sys.stdin.read()))
    json.dump(asyncio.run(run(spec)), sys.stdout)


if __name__ == "__main__":
    main()
