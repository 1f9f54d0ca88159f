"""GitHub's REST API for one repository's issues: create, list by label, read, and close (PATCH state).

Strict like GitHub: a bearer token (401 `Bad credentials` otherwise); a missing title or an assignee who
cannot be assigned is a 422 `Validation Failed`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import web

from tests.faketrackers.common import LoopbackTracker, sample


class FakeGitHub(LoopbackTracker):
    def __init__(self, *, repo: str = "acme/incidents", token: str = "ghp_fake0123456789",
                 webhook_secret: str = "github-webhook-secret-0123456789") -> None:
        super().__init__(webhook_secret)
        self.repo, self.token = repo, token
        self.assignable: set[str] = set()
        self.issues: dict[int, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        base = f"/repos/{self.repo}"
        app.router.add_post(f"{base}/issues", self.create)
        app.router.add_get(f"{base}/issues", self.list)
        app.router.add_get(f"{base}/issues/{{number}}", self.read)
        app.router.add_patch(f"{base}/issues/{{number}}", self.update)

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    def refuse(self) -> web.Response:
        return web.json_response({"message": "Bad credentials", "status": "401"}, status=401)

    @staticmethod
    def invalid(field: str, code: str = "invalid") -> web.Response:
        return web.json_response({"message": "Validation Failed", "status": "422",
                                  "errors": [{"resource": "Issue", "field": field, "code": code}]}, status=422)

    async def create(self, request: web.Request) -> web.Response:
        data = await request.json()
        if not isinstance(data.get("title"), str) or not data["title"].strip():
            return self.invalid("title", "missing_field")
        if any(login not in self.assignable for login in data.get("assignees", [])):
            return self.invalid("assignees")
        number = len(self.issues) + 1
        self.issues[number] = {
            "number": number, "title": data["title"], "body": data.get("body"), "state": "open", "state_reason": None,
            "html_url": f"https://github.com/{self.repo}/issues/{number}",
            "labels": [{"name": name} for name in data.get("labels", [])],
            "assignees": [{"login": login} for login in data.get("assignees", [])],
        }
        return web.json_response(self.issues[number], status=201)

    async def list(self, request: web.Request) -> web.Response:
        wanted = [label for label in request.query.get("labels", "").split(",") if label]
        state = request.query.get("state", "open")
        found = [i for i in self.issues.values() if (state == "all" or i["state"] == state)
                 and all(w in [label["name"] for label in i["labels"]] for w in wanted)]
        return web.json_response(found)

    def _issue(self, request: web.Request) -> dict[str, Any]:
        number = request.match_info["number"]
        if not number.isdigit() or int(number) not in self.issues:
            raise web.HTTPNotFound(text=json.dumps({"message": "Not Found", "status": "404"}),
                                   content_type="application/json")
        return self.issues[int(number)]

    async def read(self, request: web.Request) -> web.Response:
        return web.json_response(self._issue(request))

    async def update(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        data = await request.json()
        if "title" in data and (not isinstance(data["title"], str) or not data["title"].strip()):
            return self.invalid("title", "missing_field")
        if any(login not in self.assignable for login in data.get("assignees", [])):
            return self.invalid("assignees")
        for name in ("title", "body"):
            if name in data:
                issue[name] = data[name]
        if "labels" in data:
            issue["labels"] = [{"name": name} for name in data["labels"]]
        if "assignees" in data:
            issue["assignees"] = [{"login": login} for login in data["assignees"]]
        if "state" in data:
            if data["state"] not in ("open", "closed"):
                return self.invalid("state")
            issue["state"] = data["state"]
            issue["state_reason"] = data.get("state_reason") if data["state"] == "closed" else "reopened"
        return web.json_response(issue)

    # -- what people do on GitHub -------------------------------------------------------------

    def close(self, number: int) -> bytes:
        """Someone closes the issue; returns the `issues` webhook GitHub then sends (action: closed)."""
        issue = self.issues[number]
        issue.update(state="closed", state_reason="completed")
        payload = sample("github-issues-closed.json")
        payload["issue"].update(number=number, title=issue["title"], html_url=issue["html_url"],
                                url=f"https://api.github.com/repos/{self.repo}/issues/{number}")
        payload["repository"].update(full_name=self.repo, name=self.repo.split("/")[1])
        return json.dumps(payload).encode()

    def webhook_headers(self, body: bytes, event: str = "issues") -> dict[str, str]:
        return {"Content-Type": "application/json", "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": self.signature(body), "User-Agent": "GitHub-Hookshot/fake"}
