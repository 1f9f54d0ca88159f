"""What the bot asks of any tracker. A tracker that fails raises IntegrationUnavailable (app/integrations)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from app.integrations.errors import IntegrationUnavailable
from app.reviews.models import Priority


@dataclass(frozen=True)
class NewIssue:
    summary: str
    description: str  # plain text; each tracker lays it out its own way
    link: str  # back to the incident (its Slack channel)
    link_text: str
    priority: Priority | None
    due_on: date | None
    owner_email: str | None  # Jira finds the assignee by e-mail
    owner: str | None  # the owner's Slack user id (GitHub maps it to a login)
    marker: str  # a label unique to the item, so an issue created but not recorded is found, not made twice


@dataclass(frozen=True)
class Filed:
    key: str  # OPS-12, acme/incidents#42
    url: str  # where people open it


class Tracker(Protocol):
    name: str  # "jira" or "github", as stored on the item
    label: str  # "Jira" or "GitHub", as people read it

    async def create(self, issue: NewIssue) -> Filed: ...

    async def find(self, marker: str) -> Filed | None:
        """The issue carrying this marker, if an earlier attempt created it without recording it."""
        ...

    async def update(self, key: str, issue: NewIssue) -> bool:
        """Make the issue say what the item says now (summary, priority, due date, assignee)."""
        ...

    async def is_done(self, key: str) -> bool: ...

    async def close(self, key: str) -> bool: ...


def field(data: object, *path: str | int) -> object:
    """A value deep in a tracker's answer; a missing one is the tracker answering something unexpected."""
    for part in path:
        try:
            if isinstance(data, dict):
                data = data[part]
                continue
            if not (isinstance(data, list) and isinstance(part, int)):
                raise TypeError(f"{type(data).__name__} has no {part!r}")
            data = data[part]
        except (KeyError, IndexError, TypeError):
            raise IntegrationUnavailable(f"unexpected answer (no {'.'.join(map(str, path))})",
                                         transient=False) from None
    return data
