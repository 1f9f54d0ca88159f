"""The pinned kickoff's buttons: Change severity, Take a role and Resolve open a form; the form's answers
run the same command as typing it. A button on a resolved incident is answered privately."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from app.incidents import service
from app.incidents.errors import IncidentResolved, NoSuchIncident
from app.incidents.models import Incident
from app.slack import parsing, payloads
from app.slack.flows import Actor, IncidentFlows
from app.slack.listeners.actions import pressed_by
from app.slack.listeners.views import read_or_refuse
from app.slack.messages import Message
from app.slack.views import (
    RESOLVE_CALLBACK,
    ROLE_CALLBACK,
    SEVERITY_CALLBACK,
    read_resolve_modal,
    read_role_modal,
    read_severity_modal,
    resolve_modal,
    role_modal,
    severity_modal,
)

Form = Callable[[IncidentFlows, Incident], dict[str, Any]]
FORMS: dict[str, Form] = {
    "change_severity": lambda flows, incident: severity_modal(flows, incident, channel_id=incident.channel_id or ""),
    "take_role": lambda flows, incident: role_modal(flows, incident, channel_id=incident.channel_id or ""),
    "resolve_incident": lambda flows, incident: resolve_modal(flows, incident, channel_id=incident.channel_id or ""),
}


async def open_incident(flows: IncidentFlows, incident_id: int) -> Incident:
    """The incident a button is for, refused if it is resolved (the button may be on an old message)."""
    async with flows.db.transaction() as session:
        incident = await service.find_incident(session, incident_id)
    if incident is None:
        raise NoSuchIncident(number=incident_id)
    if incident.is_resolved:
        raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at)
    return incident


def register(app: AsyncApp, flows: IncidentFlows) -> None:
    for action_id, form in FORMS.items():
        def opener(form: Form = form):  # type: ignore[no-untyped-def]
            async def open_form(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond,
                                client: AsyncWebClient) -> None:
                await ack()
                actor = pressed_by(body, respond)

                async def show() -> None:
                    incident = await open_incident(flows, payloads.number(action.get("value")))
                    await client.views_open(trigger_id=body["trigger_id"], view=form(flows, incident))

                await flows.guarded(show(), actor)
            return open_form

        app.action(action_id)(flows.acks.first(opener()))

    def submitted(read: Callable[[dict[str, dict[str, Any]], str], parsing.Command]):  # type: ignore[no-untyped-def]
        async def run(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
            user_id, channel_id = body["user"]["id"], view["private_metadata"]
            command = await read_or_refuse(flows, ack, lambda values: read(values, user_id), view)
            if command is None:
                return

            async def reply(message: Message) -> None:
                await client.chat_postEphemeral(channel=channel_id, user=user_id, **message.as_kwargs())

            await flows.run(command, Actor(user_id, channel_id, reply))
        return run

    app.view(SEVERITY_CALLBACK)(flows.acks.first(submitted(lambda values, user: read_severity_modal(values))))
    app.view(ROLE_CALLBACK)(flows.acks.first(submitted(read_role_modal)))
    app.view(RESOLVE_CALLBACK)(flows.acks.first(submitted(lambda values, user: read_resolve_modal(values))))
