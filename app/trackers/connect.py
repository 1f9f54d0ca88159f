"""From playbooks/trackers.yml and the environment to the tracker and its webhook (or none)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx

from app.settings import check_secret
from app.trackers.config import TrackerRules, secret
from app.trackers.github import GitHubIssues
from app.trackers.issues import Tracker
from app.trackers.jira import Jira
from app.trackers.webhooks import GitHubWebhook, JiraWebhook, Webhook


def connect(rules: TrackerRules, path: Path, http: httpx.AsyncClient,
            environ: Mapping[str, str] | None = None) -> tuple[Tracker | None, Webhook | None]:
    """The tracker (its API credentials must be set) and its webhook (only when its secret is set: without one,
    the periodic sync alone notices issues finished there; a weak one stops start-up, app.settings.check_secret)."""
    env = os.environ if environ is None else environ
    if rules.tracker == "jira" and rules.jira is not None:
        jira = rules.jira
        tracker: Tracker = Jira(http, jira, email=secret(path, "jira.email_env", jira.email_env, env),
                                token=secret(path, "jira.token_env", jira.token_env, env))
        webhook_secret = env.get(jira.webhook_secret_env, "").strip()
        if webhook_secret:
            check_secret(jira.webhook_secret_env, webhook_secret)
        return tracker, JiraWebhook(webhook_secret) if webhook_secret else None
    if rules.tracker == "github" and rules.github is not None:
        github = rules.github
        tracker = GitHubIssues(http, github, token=secret(path, "github.token_env", github.token_env, env))
        webhook_secret = env.get(github.webhook_secret_env, "").strip()
        if webhook_secret:
            check_secret(github.webhook_secret_env, webhook_secret)
        return tracker, GitHubWebhook(webhook_secret, github.repo) if webhook_secret else None
    return None, None
