"""Stateful fakes of the trackers' REST APIs on loopback (Jira Cloud v3, GitHub Issues), as strict as the real
ones about what the bot sends, with an outage switch and webhooks signed as each tracker signs them."""

from tests.faketrackers.github import FakeGitHub
from tests.faketrackers.jira import FakeJira

__all__ = ["FakeGitHub", "FakeJira"]
