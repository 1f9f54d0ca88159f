"""GET /metrics, in Prometheus' text format.

The incident figures (open by severity, declared and resolved totals, time to acknowledge and to
resolve) are read from the database when scraped, so every replica reports the same figures and a
restart loses none. What each process does (due work firing, Slack calls, requests) is counted by it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select

from app.db import Database
from app.incidents.models import Incident, Severity
from app.ops.slack_calls import SlackCalls

MINUTE, HOUR = 60.0, 3600.0
ACKNOWLEDGE_BUCKETS = (MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 24 * HOUR)
RESOLVE_BUCKETS = (15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 12 * HOUR, 24 * HOUR, 72 * HOUR)
LAG_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 3)  # Slack waits 3 s for an answer


@dataclass(eq=False)  # registered by identity
class IncidentFigures(Collector):
    """A snapshot of the incidents table, refreshed before each scrape."""

    open_by_severity: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Severity})
    declared: int = 0
    resolved: int = 0
    to_acknowledge: list[float] = field(default_factory=list)
    to_resolve: list[float] = field(default_factory=list)

    async def refresh(self, db: Database) -> None:
        async with db.transaction() as session:
            rows = (await session.execute(select(Incident.severity, Incident.started_at, Incident.acknowledged_at,
                                                 Incident.resolved_at))).all()
        self.open_by_severity = {s.value: 0 for s in Severity}
        self.to_acknowledge, self.to_resolve = [], []
        for severity, started, acknowledged, resolved in rows:
            if resolved is None:
                self.open_by_severity[severity.value] += 1
            else:
                self.to_resolve.append(_seconds(started, resolved))
            if acknowledged is not None:
                self.to_acknowledge.append(_seconds(started, acknowledged))
        self.declared, self.resolved = len(rows), len(self.to_resolve)

    def collect(self) -> Iterable[Metric]:
        open_now = GaugeMetricFamily("incidents_open", "Incidents not yet resolved, by severity", labels=["severity"])
        for severity, count in self.open_by_severity.items():
            open_now.add_metric([severity], count)
        yield open_now
        yield CounterMetricFamily("incidents_declared", "Incidents declared", value=self.declared)
        yield CounterMetricFamily("incidents_resolved", "Incidents resolved", value=self.resolved)
        yield _histogram("incident_time_to_acknowledge_seconds", "From declaration to acknowledgement",
                         self.to_acknowledge, ACKNOWLEDGE_BUCKETS)
        yield _histogram("incident_time_to_resolve_seconds", "From declaration to resolution",
                         self.to_resolve, RESOLVE_BUCKETS)


class Metrics:
    """One registry per runtime (the tests build many runtimes in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.incidents = IncidentFigures()
        self.registry.register(self.incidents)
        self.slack = SlackCalls(self.registry)
        self.due_work_lag = Histogram("due_work_lag_seconds", "How late due work fired after its due time",
                                      ["kind"], buckets=LAG_BUCKETS, registry=self.registry)
        self.due_work_failures = Counter("due_work_failures", "Attempts at due work that failed, by kind",
                                         ["kind"], registry=self.registry)
        self.due_work_takeovers = Counter("due_work_takeovers", "Due work taken over from a worker that died or "
                                          "lost its lease (checked before it is done again), by kind", ["kind"],
                                          registry=self.registry)
        self.oldest_leased = Gauge("due_work_oldest_leased_seconds", "Since the longest-held leased due work fell "
                                  "due, as this process's last sweep saw it (0: nothing leased)",
                                  registry=self.registry)
        self.request_seconds = Histogram("slack_events_request_seconds", "Time to answer POST /slack/events",
                                         buckets=REQUEST_BUCKETS, registry=self.registry)

    # the sweeper's observer (app/duework/sweeper.py)
    def fired(self, kind: str, lag_seconds: float) -> None:
        self.due_work_lag.labels(kind).observe(max(lag_seconds, 0.0))

    def failed(self, kind: str) -> None:
        self.due_work_failures.labels(kind).inc()

    def took_over(self, kind: str) -> None:
        self.due_work_takeovers.labels(kind).inc()

    def oldest_lease(self, seconds: float) -> None:
        self.oldest_leased.set(seconds)

    def timing(self, path: str) -> Callable[..., Awaitable[web.StreamResponse]]:
        """aiohttp middleware timing the requests to `path`."""

        @web.middleware
        async def middleware(request: web.Request,
                             handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
            if request.path != path:
                return await handler(request)
            started = time.perf_counter()
            try:
                return await handler(request)
            finally:
                self.request_seconds.observe(time.perf_counter() - started)

        return middleware

    def endpoint(self, db: Database) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def metrics(_request: web.Request) -> web.Response:
            await self.incidents.refresh(db)
            return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

        return metrics


def _seconds(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0)


def _histogram(name: str, documentation: str, values: Sequence[float], buckets: Sequence[float]) -> Metric:
    counts = [(repr(float(bound)), sum(1 for v in values if v <= bound)) for bound in buckets]
    return HistogramMetricFamily(name, documentation, buckets=[*counts, ("+Inf", len(values))],
                                 sum_value=sum(values))
