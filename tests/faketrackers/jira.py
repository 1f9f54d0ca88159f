"""Jira Cloud's REST API v3, as much of it as action items use: create an issue, search users by e-mail,
read an issue's status, its transitions, transition it, and search by JQL (labels only).

Strict like Jira: basic auth with the account's e-mail and API token; an unknown project, issue type,
priority or assignee, a summary with a line break, a description that is not Atlassian Document Format,
or a malformed due date is a 400 with Jira's `errors` object.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import date
from typing import Any

from aiohttp import web

from tests.faketrackers.common import LoopbackTracker, sample

STATUSES = {"To Do": ("10000", "new", 2, "To Do"), "In Progress": ("10001", "indeterminate", 4, "In Progress"),
            "Done": ("10002", "done", 3, "Done")}
TRANSITIONS = (("11", "To Do"), ("21", "In Progress"), ("31", "Done"))
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")


def status(name: str) -> dict[str, Any]:
    status_id, key, category_id, category = STATUSES[name]
    return {"id": status_id, "name": name, "statusCategory": {"id": category_id, "key": key, "name": category}}


def adf_problem(doc: Any) -> str | None:
    """What is wrong with a document in Atlassian Document Format (None: nothing)."""
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
    for block in doc.get("content", []):
        if not isinstance(block, dict) or block.get("type") not in ("paragraph", "heading", "bulletList"):
            return "INVALID_INPUT"
        for node in block.get("content", []):
            if node.get("type") == "text" and not node.get("text"):
                return "INVALID_INPUT: text nodes must not be empty"
            for mark in node.get("marks", []):
                if mark.get("type") == "link" and not (mark.get("attrs") or {}).get("href"):
                    return "INVALID_INPUT: a link needs an href"
    return None


class FakeJira(LoopbackTracker):
    def __init__(self, *, email: str = "bot@acme.test", token: str = "jira-api-token", project: str = "OPS",
                 webhook_secret: str = "jira-webhook-secret-0123456789") -> None:
        super().__init__(webhook_secret)
        self.email, self.token, self.project = email, token, project
        self.users: list[dict[str, Any]] = []
        self.issues: dict[str, dict[str, Any]] = {}

    def add_user(self, email: str, name: str) -> str:
        account = f"5b10ac8d82e05b22cc7d{len(self.users):04d}"
        self.users.append({"accountId": account, "emailAddress": email, "displayName": name, "active": True,
                           "accountType": "atlassian"})
        return account

    # -- the API ------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/rest/api/3/issue", self.create)
        app.router.add_get("/rest/api/3/user/search", self.user_search)
        app.router.add_get("/rest/api/3/issue/{key}", self.read)
        app.router.add_put("/rest/api/3/issue/{key}", self.edit)
        app.router.add_get("/rest/api/3/issue/{key}/transitions", self.transitions)
        app.router.add_post("/rest/api/3/issue/{key}/transitions", self.transition)
        app.router.add_post("/rest/api/3/search/jql", self.search)

    def authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def refuse(self) -> web.Response:
        return web.Response(status=401, text="Client must be authenticated to access this resource.")

    @staticmethod
    def bad(errors: dict[str, str]) -> web.Response:
        return web.json_response({"errorMessages": [], "errors": errors}, status=400)

    async def create(self, request: web.Request) -> web.Response:
        fields = (await request.json()).get("fields") or {}
        errors = self.check(fields, new=True)
        if errors:
            return self.bad(errors)
        number = len(self.issues) + 1
        key, issue_id = f"{self.project}-{number}", str(10000 + number)
        self.issues[key] = {"id": issue_id, "key": key, "fields": {**fields, "status": status("To Do")}}
        return web.json_response({"id": issue_id, "key": key, "self": f"{self.base_url}/rest/api/3/issue/{issue_id}"},
                                 status=201)

    async def edit(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        fields = (await request.json()).get("fields") or {}
        errors = self.check(fields, new=False)
        if errors:
            return self.bad(errors)
        issue["fields"].update(fields)
        return web.Response(status=204)

    def check(self, fields: dict[str, Any], *, new: bool) -> dict[str, str]:
        """Jira's complaints about these fields (an edit may leave out what only a new issue needs)."""
        errors = {}
        if (new or "project" in fields) and (fields.get("project") or {}).get("key") != self.project:
            errors["project"] = "valid project is required"
        if (new or "issuetype" in fields) and (fields.get("issuetype") or {}).get("name") != "Task":
            errors["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if (new or "summary" in fields) and (not isinstance(summary, str) or not summary.strip()):
            errors["summary"] = "You must specify a summary of the issue."
        elif isinstance(summary, str) and ("\n" in summary or len(summary) > 255):
            errors["summary"] = "The summary is invalid because it contains newline characters."
        if "description" in fields and (problem := adf_problem(fields["description"])):
            errors["description"] = problem
        if "priority" in fields and (fields["priority"] or {}).get("name") not in PRIORITIES:
            errors["priority"] = "Specify the Priority (name) in the string format"
        if "duedate" in fields:
            try:
                date.fromisoformat(fields["duedate"])
            except (TypeError, ValueError):
                errors["duedate"] = "Error parsing date string: " + str(fields["duedate"])
        if "assignee" in fields and not any(u["accountId"] == (fields["assignee"] or {}).get("accountId")
                                            for u in self.users):
            errors["assignee"] = "Specify a valid value for assignee"
        if any(" " in label for label in fields.get("labels", [])):
            errors["labels"] = "The label can't contain spaces."
        return errors

    async def user_search(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "").lower()
        if not query:
            return self.bad({"query": "One of 'query', 'accountId' or 'property' must be provided"})
        found = [u for u in self.users if u["emailAddress"].lower().startswith(query)
                 or u["displayName"].lower().startswith(query)]
        return web.json_response(found)

    def _issue(self, request: web.Request) -> dict[str, Any]:
        issue = self.issues.get(request.match_info["key"])
        if issue is None:
            raise web.HTTPNotFound(text=json.dumps({"errorMessages": ["Issue does not exist or you do not have "
                                                                      "permission to see it."], "errors": {}}),
                                   content_type="application/json")
        return issue

    async def read(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        wanted = request.query.get("fields")
        fields = issue["fields"] if not wanted else {k: v for k, v in issue["fields"].items() if k in wanted.split(",")}
        return web.json_response({"id": issue["id"], "key": issue["key"], "fields": fields})

    async def transitions(self, request: web.Request) -> web.Response:
        self._issue(request)
        return web.json_response({"transitions": [{"id": tid, "name": name, "to": status(name), "isAvailable": True}
                                                  for tid, name in TRANSITIONS]})

    async def transition(self, request: web.Request) -> web.Response:
        issue = self._issue(request)
        wanted = ((await request.json()).get("transition") or {}).get("id")
        chosen = [name for tid, name in TRANSITIONS if tid == wanted]
        if not chosen:
            return self.bad({"transition": "Transition id is not valid"})
        issue["fields"]["status"] = status(chosen[0])
        return web.Response(status=204)

    async def search(self, request: web.Request) -> web.Response:
        jql = str((await request.json()).get("jql", ""))
        label = re.search(r'labels\s*=\s*"([^"]+)"', jql)
        if label is None:
            return self.bad({"jql": "The fake understands only `labels = \"...\"`"})
        found = [{"id": i["id"], "key": i["key"], "fields": {"status": i["fields"]["status"]}}
                 for i in self.issues.values() if label.group(1) in i["fields"].get("labels", [])]
        return web.json_response({"issues": found, "isLast": True})

    # -- what people do in Jira ---------------------------------------------------------------

    def finish(self, key: str) -> bytes:
        """Someone moves the issue to Done; returns the webhook Jira then sends (jira:issue_updated)."""
        issue = self.issues[key]
        issue["fields"]["status"] = status("Done")
        payload = sample("jira-issue-updated.json")
        payload["issue"].update(id=issue["id"], key=key, self=f"{self.base_url}/rest/api/2/issue/{issue['id']}")
        payload["issue"]["fields"].update(summary=issue["fields"]["summary"], status=status("Done"))
        return json.dumps(payload).encode()

    def webhook_headers(self, body: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json", "X-Hub-Signature": self.signature(body),
                "X-Atlassian-Webhook-Identifier": str(len(body))}
