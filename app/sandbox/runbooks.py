"""The sandbox's stand-in for a team's runbooks. A real catalog links each service's runbook to the team's wiki;
the sandbox's catalog (app/sandbox/workspace.py) links them here instead, to a page showing the plan's playbook
for an incident type, so the runbook link the kickoff carries opens in the demo, offline too."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from app.incidents.playbooks import Playbook
from app.settings import PROJECT_ROOT
from app.template_cache import compiled

RUNBOOKS_PATH = "/sandbox/runbooks"
TEMPLATE = "sandbox_runbook.html.j2"


def runbook_url(sandbox_url: str, kind: str) -> str:
    """Where the sandbox serves the runbook for incidents of type `kind` (a playbooks/types/ file's name)."""
    return f"{sandbox_url}{RUNBOOKS_PATH}/{kind}"


def add_runbook_pages(app: web.Application, playbooks: Mapping[str, Playbook]) -> None:
    env = Environment(loader=FileSystemLoader(PROJECT_ROOT / "messages" / "web"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      bytecode_cache=compiled("html"))
    template = env.get_template(TEMPLATE)  # a mistake in it stops the sandbox's start, not its first reader

    async def runbook(request: web.Request) -> web.Response:
        playbook = playbooks.get(request.match_info["kind"])
        if playbook is None:
            raise web.HTTPNotFound(text="no such runbook")
        return web.Response(text=template.render(playbook=playbook), content_type="text/html")

    app.router.add_get(RUNBOOKS_PATH + "/{kind}", runbook)
