"""Log lines for people (text) or for log collectors (LOG_FORMAT=json: one JSON object per line).

What a line is about travels in context variables, set where the work starts (a due-work firing, a
Slack call), so every line logged inside carries the incident id, the due-work id and the Slack method.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any, TypeVar

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, Request, StreamResponse
from pythonjsonlogger.json import JsonFormatter

from app.ops.refusals import REFUSED, route_of

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
incident_id: ContextVar[int | None] = ContextVar("incident_id", default=None)
due_work_id: ContextVar[int | None] = ContextVar("due_work_id", default=None)
slack_method: ContextVar[str | None] = ContextVar("slack_method", default=None)
CONTEXT = (incident_id, due_work_id, slack_method)
T = TypeVar("T")
# APScheduler logs every run of every job at INFO: a line per sweep, every few seconds. httpx logs every
# request with its full URL at INFO: a line per health-check probe, and whatever a URL's query carries.
QUIET = ("apscheduler.executors.default", "apscheduler.scheduler", "httpx")


class WithContext(logging.Filter):
    """Adds the context variables that are set to each record (as attributes: JSON fields)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for variable in CONTEXT:
            value = variable.get()
            if value is not None and not hasattr(record, variable.name):
                setattr(record, variable.name, value)
        return True


def log_handler(fmt: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing `text` or `json` lines (to stderr by default), with the context of each line."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(WithContext())
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


class AccessLog(AbstractAccessLogger):
    """One line per HTTP request: method, path, status, size and time; never the query string or headers.

    The review and insights links carry their signature (`sig=`, a capability valid for weeks) in the query,
    and a Referer could too. The path is the raw one (still percent-encoded: no line breaks), cut short, for a
    route that matched; a path no route serves (a 404 or 405 from the router) is anybody's text, so it is
    logged as its route, "?".
    """

    MAX_PATH = 200

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if request.get(REFUSED):
            return  # app/ops/refusals.py logged it: one line per refused request, not two
        served = isinstance(request, Request) and route_of(request) != "?"
        path = request.rel_url.raw_path[:self.MAX_PATH] if served else "?"
        self.logger.info("%s %s %s %s bytes in %.1f ms", request.method[:16], path, response.status,
                         response.body_length, time * 1000)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def configure_logging(level: str, fmt: str) -> None:
    logging.basicConfig(level=level, handlers=[log_handler(fmt)], force=True)
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)  # app.db logs one line per migration
        for name in QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)


@contextmanager
def about(**values: Any) -> Iterator[None]:
    """Log lines inside are about these (incident_id=..., due_work_id=..., slack_method=...)."""
    variables = {variable.name: variable for variable in CONTEXT}
    resets = [_set(variables[name], value) for name, value in values.items()]
    try:
        yield
    finally:
        for reset in reversed(resets):
            reset()


def _set(variable: ContextVar[T], value: T) -> Callable[[], None]:
    """Set the variable; what puts it back as it was."""
    token = variable.set(value)
    return lambda: variable.reset(token)
