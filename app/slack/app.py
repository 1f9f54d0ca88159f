"""The Bolt app: built by a factory, signatures always verified, listeners registered per surface."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from app.slack import deliveries, parsing
from app.slack.flows import IncidentFlows
from app.slack.playbooks import ChecklistFlows
from app.slack.listeners import actions, commands, views
from app.slack.comms import CommsFlows
from app.slack.listeners import comms as comms_listeners
from app.slack.listeners import kickoff, members, reactions
from app.slack.listeners import reviews as review_listeners
from app.statuspage.statuspage_io import StatuspageIo

log = logging.getLogger(__name__)


def create_slack_app(*, signing_secret: str, client: AsyncWebClient, flows: IncidentFlows,
                     statuspage: StatuspageIo | None = None) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=signing_secret, name="incident-coordinator")
    deliveries.register(app, flows)  # before any listener: a retried event is dropped here
    commands.register(app, flows)
    views.register(app, flows)
    checklists = ChecklistFlows(flows)
    flows.handlers[parsing.ShowChecklist] = lambda command, actor: checklists.show(actor)
    flows.handlers[parsing.Notified] = lambda command, actor: checklists.notified(actor, command.deadline)
    actions.register(app, flows, checklists)
    comms_listeners.register(app, flows, CommsFlows(flows, statuspage))
    review_listeners.register(app, flows)
    reactions.register(app, flows)
    kickoff.register(app, flows)
    members.register(app, flows)

    @app.error
    async def unexpected_error(error: Exception, body: dict[str, Any], respond: AsyncRespond | None) -> None:
        # Known problems are answered by the flows; this is for bugs and outages: log with a reference
        # the person can quote, and tell them something went wrong instead of leaving them in silence.
        reference = uuid.uuid4().hex[:8]
        log.exception("Unexpected error (ref %s) handling %s", reference, body.get("command") or body.get("type"),
                      exc_info=error)
        if respond is not None and body.get("response_url"):
            text = flows.messages.text("errors/unexpected.j2", reference=reference)
            await respond(text=text, response_type="ephemeral")

    return app
