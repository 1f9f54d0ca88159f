"""GitHub Issues over the REST API: a bearer token allowed to write the repository's issues."""

from __future__ import annotations

from typing import Any

import httpx

from app.integrations.errors import IntegrationUnavailable
from app.integrations.http import call
from app.trackers.config import GitHubSettings
from app.trackers.issues import Filed, NewIssue, field

API_VERSION = "2022-11-28"


class GitHubIssues:
    name = "github"
    label = "GitHub"

    def __init__(self, http: httpx.AsyncClient, settings: GitHubSettings, *, token: str) -> None:
        self.http = http
        self.settings = settings
        self.repo = settings.repo
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                        "X-GitHub-Api-Version": API_VERSION}

    async def _call(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        return await call(self.http, method, f"{self.settings.api_url}/repos/{self.repo}{path}", what,
                          headers=self.headers, **kwargs)

    def key(self, number: int | str) -> str:
        return f"{self.repo}#{number}"

    def number(self, key: str) -> str:
        repo, _, number = key.rpartition("#")
        if repo != self.repo or not number.isdigit():
            raise IntegrationUnavailable(f"{key} is not an issue of {self.repo}", transient=False)
        return number

    def login(self, issue: NewIssue) -> str | None:
        logins = self.settings.logins
        return logins.get(issue.owner or "") or logins.get((issue.owner_email or "").lower()) or None

    def _fields(self, issue: NewIssue) -> dict[str, Any]:
        body = f"{issue.description}\n\n[{issue.link_text}]({issue.link})"
        labels = [*self.settings.labels, issue.marker]
        if issue.priority is not None and issue.priority in self.settings.priority_labels:
            labels.append(self.settings.priority_labels[issue.priority])
        fields: dict[str, Any] = {"title": issue.summary, "body": body, "labels": labels}
        if login := self.login(issue):
            fields["assignees"] = [login]
        return fields

    async def _send(self, method: str, path: str, what: str, fields: dict[str, Any]) -> httpx.Response:
        try:
            return await self._call(method, path, what, json=fields)
        except IntegrationUnavailable as error:
            if error.transient or "assignees" not in fields:
                raise
            # A login that cannot be assigned here (422) must not keep the item out of the tracker.
            return await self._call(method, path, what, json={k: v for k, v in fields.items() if k != "assignees"})

    async def create(self, issue: NewIssue) -> Filed:
        response = await self._send("POST", "/issues", "create issue", self._fields(issue))
        return Filed(key=self.key(str(field(response.json(), "number"))), url=str(field(response.json(), "html_url")))

    async def find(self, marker: str) -> Filed | None:
        response = await self._call("GET", "/issues", "find issue", params={"labels": marker, "state": "all"})
        issues = response.json()
        if not isinstance(issues, list) or not issues:
            return None
        return Filed(key=self.key(str(field(issues, 0, "number"))), url=str(field(issues, 0, "html_url")))

    async def update(self, key: str, issue: NewIssue) -> bool:
        await self._send("PATCH", f"/issues/{self.number(key)}", "update issue", self._fields(issue))
        return True

    async def is_done(self, key: str) -> bool:
        response = await self._call("GET", f"/issues/{self.number(key)}", "read issue")
        return field(response.json(), "state") == "closed"

    async def close(self, key: str) -> bool:
        await self._call("PATCH", f"/issues/{self.number(key)}", "close issue",
                         json={"state": "closed", "state_reason": "completed"})
        return True
