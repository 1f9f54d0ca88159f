"""From playbooks/trackers.yml and the environment to the tracker and its webhook (or none): the tracker
selector, the one place that knows which trackers there are."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx

from app.integrations.environment import names, optional_signing_secret, secret, signing_secret
from app.trackers.config import TrackerRules
from app.trackers.github import GitHubIssues
from app.trackers.issues import Tracker
from app.trackers.jira import Jira
from app.trackers.webhooks import GitHubWebhook, JiraWebhook, Webhook


def connect(rules: TrackerRules, path: Path, http: httpx.AsyncClient,
            environ: Mapping[str, str]) -> tuple[Tracker | None, Webhook | None]:
    """The tracker (its API credentials must be set) and its webhook: on when the file names its secret's
    variable (which must then be set) or when the default variable is set; without one, the periodic sync alone
    notices issues finished there. A weak secret stops start-up (app.settings.check_secret)."""
    if rules.tracker == "jira" and rules.jira is not None:
        jira = rules.jira
        tracker: Tracker = Jira(http, jira, email=secret(path, "jira.email_env", jira.email_env, environ),
                                token=secret(path, "jira.token_env", jira.token_env, environ))
        webhook_secret = _webhook_secret(path, "jira", jira.webhook_secret_env, named=names(jira, "webhook_secret_env"),
                                         environ=environ)
        return tracker, JiraWebhook(webhook_secret) if webhook_secret else None
    if rules.tracker == "github" and rules.github is not None:
        github = rules.github
        tracker = GitHubIssues(http, github, token=secret(path, "github.token_env", github.token_env, environ))
        webhook_secret = _webhook_secret(path, "github", github.webhook_secret_env,
                                         named=names(github, "webhook_secret_env"), environ=environ)
        return tracker, GitHubWebhook(webhook_secret, github.repo) if webhook_secret else None
    return None, None


def _webhook_secret(path: Path, section: str, name: str, *, named: bool, environ: Mapping[str, str]) -> str | None:
    if named:
        return signing_secret(path, f"{section}.webhook_secret_env", name, environ)
    return optional_signing_secret(name, environ)
