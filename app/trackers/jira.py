"""Jira Cloud's REST API v3: basic auth with an account's e-mail and API token."""

from __future__ import annotations

from typing import Any

import httpx

from app.integrations.errors import IntegrationUnavailable
from app.integrations.http import call
from app.trackers.config import JiraSettings
from app.trackers.issues import Filed, NewIssue, field

DONE = "done"  # the status category every workflow's finished statuses belong to


def adf(text: str, link: str, link_text: str) -> dict[str, Any]:
    """The description in Atlassian Document Format: a paragraph per line, then the link back."""
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}]}
                  for line in text.splitlines() if line.strip()]
    back = {"type": "paragraph", "content": [
        {"type": "text", "text": link_text, "marks": [{"type": "link", "attrs": {"href": link}}]}]}
    return {"type": "doc", "version": 1, "content": [*paragraphs, back]}


class Jira:
    name = "jira"
    label = "Jira"

    def __init__(self, http: httpx.AsyncClient, settings: JiraSettings, *, email: str, token: str) -> None:
        self.http = http
        self.settings = settings
        self.api = f"{settings.base_url}/rest/api/3"
        self.auth = httpx.BasicAuth(email, token)

    async def _call(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        return await call(self.http, method, f"{self.api}{path}", what, auth=self.auth,
                          headers={"Accept": "application/json"}, **kwargs)

    def _filed(self, key: str) -> Filed:
        return Filed(key=key, url=f"{self.settings.base_url}/browse/{key}")

    async def assignee(self, email: str) -> str | None:
        """The account whose e-mail this is; None when Jira knows nobody by it (or hides e-mails)."""
        response = await self._call("GET", "/user/search", "find assignee", params={"query": email})
        users = response.json()
        if not isinstance(users, list):
            return None
        exact = [u for u in users if isinstance(u, dict) and str(u.get("emailAddress", "")).lower() == email.lower()]
        chosen = exact or [u for u in users if isinstance(u, dict)][:1]
        return str(chosen[0]["accountId"]) if chosen and chosen[0].get("accountId") else None

    async def _assignee_if_allowed(self, email: str) -> str | None:
        """The assignee, unless Jira refuses to look people up (no permission): then the issue is filed
        unassigned rather than not at all. An outage is still an outage."""
        try:
            return await self.assignee(email)
        except IntegrationUnavailable as error:
            if error.transient:
                raise
            return None

    async def _fields(self, issue: NewIssue) -> dict[str, Any]:
        """What the item says, as Jira's fields (without those only a new issue gets)."""
        fields: dict[str, Any] = {"summary": issue.summary}
        if issue.priority is not None and issue.priority in self.settings.priorities:
            fields["priority"] = {"name": self.settings.priorities[issue.priority]}
        if issue.due_on is not None:
            fields["duedate"] = issue.due_on.isoformat()
        account = await self._assignee_if_allowed(issue.owner_email) if issue.owner_email else None
        if account:
            fields["assignee"] = {"accountId": account}
        return fields

    async def create(self, issue: NewIssue) -> Filed:
        fields: dict[str, Any] = {
            "project": {"key": self.settings.project},
            "issuetype": {"name": self.settings.issue_type},
            "description": adf(issue.description, issue.link, issue.link_text),
            "labels": [*self.settings.labels, issue.marker],
            **await self._fields(issue),
        }
        response = await self._call("POST", "/issue", "create issue", json={"fields": fields})
        return self._filed(str(field(response.json(), "key")))

    async def find(self, marker: str) -> Filed | None:
        response = await self._call("POST", "/search/jql", "find issue", json={
            "jql": f'project = "{self.settings.project}" AND labels = "{marker}"', "fields": ["status"],
            "maxResults": 1})
        issues = field(response.json(), "issues")
        return self._filed(str(field(issues, 0, "key"))) if issues else None

    async def update(self, key: str, issue: NewIssue) -> bool:
        fields = await self._fields(issue)
        fields["description"] = adf(issue.description, issue.link, issue.link_text)
        await self._call("PUT", f"/issue/{key}", "update issue", json={"fields": fields})
        return True

    async def is_done(self, key: str) -> bool:
        response = await self._call("GET", f"/issue/{key}", "read issue", params={"fields": "status"})
        return field(response.json(), "fields", "status", "statusCategory", "key") == DONE

    async def close(self, key: str) -> bool:
        """Take the first transition into a finished status; an issue already finished is left as it is."""
        if await self.is_done(key):
            return True
        response = await self._call("GET", f"/issue/{key}/transitions", "read transitions")
        transitions = field(response.json(), "transitions")
        assert isinstance(transitions, list)
        done = [t for t in transitions if isinstance(t, dict)
                and ((t.get("to") or {}).get("statusCategory") or {}).get("key") == DONE]
        if not done:
            raise IntegrationUnavailable(f"close {key}: no transition leads to a done status", transient=False)
        await self._call("POST", f"/issue/{key}/transitions", "close issue", json={"transition": {"id": done[0]["id"]}})
        return True
