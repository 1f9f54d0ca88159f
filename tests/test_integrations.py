"""Every integration fails the one way: a tracker, the hosted status page and PagerDuty each raise
IntegrationUnavailable, and the clock reads it without knowing the vendor (the Slack adapter's classifier is left
out here: it answers None for everything). An outage or throttling is worth another try; a refusal is not; a
connection that broke after the request left may have taken effect; one never made did not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.duework.attempt import Attempt, Problem
from app.duework.models import DueWork, WorkKind
from app.oncall.pagers import Page, PagerDutyPager
from app.oncall.pages import Sent
from app.statuspage.statuspage_io import StatuspageIo
from app.trackers.config import GitHubSettings
from app.trackers.github import GitHubIssues

Answer = Callable[[httpx.Request], httpx.Response]


def answering(status: int, **headers: str) -> Answer:
    return lambda request: httpx.Response(status, json={"message": "no"}, headers=headers)


def raising(error: type[httpx.TransportError]) -> Answer:
    def answer(request: httpx.Request) -> httpx.Response:
        raise error("broken", request=request)
    return answer


async def tracker_closes(http: httpx.AsyncClient, attempt: Attempt) -> None:
    github = GitHubIssues(http, GitHubSettings(repo="acme/incidents"), token="ghp_token")
    await attempt.once("close", lambda: github.close("acme/incidents#7"))


async def statuspage_publishes(http: httpx.AsyncClient, attempt: Attempt) -> None:
    page = StatuspageIo(http, api_key="key-123", page_id="page-9")
    await attempt.once("publish", lambda: page.publish(None, name="Checkout errors", status="investigating",
                                                        body="We are looking into it."))


async def pagerduty_pages(http: httpx.AsyncClient, attempt: Attempt) -> None:
    async def record(sent: Sent) -> None:
        pass

    pager = PagerDutyPager(http, "R" * 32, routing_key_name="PAGERDUTY_ROUTING_KEY")
    await pager.trigger(Page(incident_id=1, severity="P1", title="Checkout errors", summary="", reason="declared",
                             people=(), channel_id=None), attempt, record)


CALLS: dict[str, Callable[[httpx.AsyncClient, Attempt], Awaitable[Any]]] = {
    "tracker": tracker_closes, "status page": statuspage_publishes, "pager": pagerduty_pages}


@pytest.mark.parametrize("kind", CALLS)
@pytest.mark.parametrize("answer, transient, unsure", [
    (answering(503), True, False),
    (answering(429), True, False),
    (answering(400), False, False),
    (answering(401), False, False),
    (raising(httpx.ConnectError), True, False),
    (raising(httpx.ReadTimeout), True, True),
])
async def test_each_kind_of_integration_fails_the_one_way_the_clock_reads(kind: str, answer: Answer,
                                                                           transient: bool, unsure: bool) -> None:
    attempt = Attempt(DueWork(id=1, kind=WorkKind.PAGE, steps={}, unsure=False), lambda error: None)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        await CALLS[kind](http, attempt)

    [failure] = attempt.failures
    assert (failure.problem.transient, failure.problem.unsure) == (transient, unsure)
    assert attempt.retry is transient
    assert failure.error.endswith(("HTTP 503", "HTTP 429", "HTTP 400", "HTTP 401", "ConnectError", "ReadTimeout"))


@pytest.mark.parametrize("kind", CALLS)
async def test_a_refusal_is_logged_without_its_body(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    """A vendor's refusal may echo what was sent (here the incident's title): the log says who refused, not what."""
    def echoing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"message": "invalid", "echo": "Checkout errors",
                                         "sent": request.content.decode()})

    attempt = Attempt(DueWork(id=1, kind=WorkKind.PAGE, steps={}, unsure=False), lambda error: None)
    async with httpx.AsyncClient(transport=httpx.MockTransport(echoing)) as http:
        await CALLS[kind](http, attempt)

    [line] = [r.getMessage() for r in caplog.records if "answered HTTP 422" in r.getMessage()]
    assert "Checkout errors" not in caplog.text and "invalid" not in caplog.text, line


async def test_anything_else_is_left_to_the_adapters_classifier() -> None:
    seen: list[BaseException] = []

    def classify(error: BaseException) -> Problem | None:
        seen.append(error)
        return None

    attempt = Attempt(DueWork(id=1, kind=WorkKind.PAGE, steps={}, unsure=False), classify)

    async def bug() -> None:
        raise KeyError("a bug, not an outage")

    with pytest.raises(KeyError):
        await attempt.once("step", bug)
    assert [type(error) for error in seen] == [KeyError]
