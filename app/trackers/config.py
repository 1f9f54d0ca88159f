"""playbooks/trackers.yml: which tracker action items are filed in, where, and how priorities read there.
Secrets are never in the file: it names the environment variables that hold them."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import model_validator

from app.integrations.environment import EnvName
from app.policy_files import HttpUrl, PositiveDuration, StrictModel, load
from app.reviews.models import Priority
from app.webhooks.deliveries import Remembered

REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class JiraSettings(StrictModel):
    base_url: HttpUrl  # https://your-site.atlassian.net
    project: str  # the project key, e.g. OPS
    issue_type: str = "Task"
    email_env: EnvName = "JIRA_EMAIL"  # the account the API token belongs to (basic auth)
    token_env: EnvName = "JIRA_API_TOKEN"
    webhook_secret_env: EnvName = "JIRA_WEBHOOK_SECRET"  # the admin webhook's secret (X-Hub-Signature)
    labels: tuple[str, ...] = ("incident-follow-up",)
    priorities: dict[Priority, str] = {  # noqa: RUF012 - pydantic copies a field's default for each instance
        Priority.P0: "Highest", Priority.P1: "High", Priority.P2: "Medium",
        Priority.P3: "Low"}


class GitHubSettings(StrictModel):
    api_url: HttpUrl = "https://api.github.com"
    repo: str  # owner/name
    token_env: EnvName = "GITHUB_TOKEN"  # a token allowed to write the repository's issues
    webhook_secret_env: EnvName = "GITHUB_WEBHOOK_SECRET"  # the webhook's secret (X-Hub-Signature-256)
    labels: tuple[str, ...] = ("incident-follow-up",)
    priority_labels: dict[Priority, str] = {p: f"priority: {p.value}" for p in Priority}  # noqa: RUF012 - pydantic copies a field's default for each instance
    logins: dict[str, str] = {}  # noqa: RUF012 - Slack user id or e-mail → GitHub login, for the assignee; copied per instance

    @model_validator(mode="after")
    def _repo(self) -> GitHubSettings:
        if not REPO.match(self.repo):
            raise ValueError(f"repo {self.repo!r} is not owner/name")
        return self


class TrackerRules(StrictModel):
    """playbooks/trackers.yml."""

    tracker: Literal["none", "jira", "github"] = "none"
    sync_every: PositiveDuration = timedelta(minutes=15)  # besides webhooks: how often open issues are checked
    jira: JiraSettings | None = None
    github: GitHubSettings | None = None
    deliveries: Remembered = Remembered()  # how long a webhook delivery's ids are remembered

    @model_validator(mode="after")
    def _chosen_is_configured(self) -> TrackerRules:
        if self.tracker != "none" and getattr(self, self.tracker) is None:
            raise ValueError(f"tracker is {self.tracker!r} but there is no {self.tracker}: section")
        return self


def load_tracker_rules(path: Path) -> TrackerRules:
    """The file read strictly; no file means no tracker."""
    return load(path, TrackerRules, missing={})

