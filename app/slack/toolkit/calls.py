"""Running Slack calls as named steps: concurrently where they are independent, and never losing
track of one that failed (after slack-sdk's retry handlers have had their go)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StepFailure:
    step: str
    error: str


@dataclass
class Steps:
    """Results of a batch of named Slack calls."""

    results: dict[str, Any]
    failures: list[StepFailure]

    def ok(self, step: str) -> Any:
        return self.results.get(step)


async def run_steps(steps: dict[str, Awaitable[Any] | None]) -> Steps:
    """Await the named calls together; a call that raised a Slack error becomes a StepFailure."""
    named = {name: call for name, call in steps.items() if call is not None}
    outcomes = await asyncio.gather(*named.values(), return_exceptions=True)
    results: dict[str, Any] = {}
    failures: list[StepFailure] = []
    for name, outcome in zip(named, outcomes, strict=True):
        if isinstance(outcome, SlackApiError):
            failures.append(StepFailure(name, str(outcome.response.get("error") or outcome.response.status_code)))
            log.warning("Slack step %s failed: %s", name, outcome.response.get("error"))
        elif isinstance(outcome, (SlackClientError, OSError, asyncio.TimeoutError)):
            failures.append(StepFailure(name, type(outcome).__name__))
            log.warning("Slack step %s failed: %r", name, outcome)
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            results[name] = outcome
    return Steps(results, failures)


async def run_step(name: str, call: Awaitable[Any]) -> Steps:
    return await run_steps({name: call})
