"""The pinned kickoff's buttons: Acknowledge; Post update, Change severity, Take a role and Resolve open a form,
and the form's answers run the same command as typing it. A button on a resolved incident is answered
privately. (The Post update button on a reminder opens the same form.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app.incidents import service
from app.incidents.errors import IncidentResolved, NoSuchIncident
from app.incidents.models import Incident
from app.slack.incident.changes import IncidentChanges
from app.slack.incident.forms import (
    RESOLVE_CALLBACK,
    ROLE_CALLBACK,
    SEVERITY_CALLBACK,
    UPDATE_CALLBACK,
    read_resolve_modal,
    read_role_modal,
    read_severity_modal,
    read_update_modal,
    resolve_modal,
    role_modal,
    severity_modal,
    update_modal,
)
from app.slack.toolkit import command_line, interactions
from app.slack.toolkit.acks import Listener
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.forms import read_or_refuse

Form = Callable[[Deps, Incident], dict[str, Any]]
FORMS: dict[str, Form] = {
    "change_severity": lambda deps, incident: severity_modal(deps, incident, channel_id=incident.channel_id or ""),
    "take_role": lambda deps, incident: role_modal(deps, incident, channel_id=incident.channel_id or ""),
    "resolve_incident": lambda deps, incident: resolve_modal(deps, incident, channel_id=incident.channel_id or ""),
}


async def open_incident(deps: Deps, incident_id: int) -> Incident:
    """The incident a button is for, refused if it is resolved (the button may be on an old message)."""
    async with deps.db.transaction() as session:
        incident = await service.find_incident(session, incident_id)
    if incident is None:
        raise NoSuchIncident(number=incident_id)
    if incident.is_resolved:
        raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at)
    return incident


def register(app: AsyncApp, deps: Deps, changes: IncidentChanges) -> None:
    acting = Acting(deps)

    @app.action("acknowledge")
    @deps.acks.first
    async def acknowledge(ack: AsyncAck, action: dict[str, Any], actor: Actor) -> None:
        await ack()

        async def acknowledge_as_pressed() -> None:
            # The page's DM is no incident channel: its button names the incident, as the kickoff's does.
            actor.incident_id = interactions.number(action.get("value"))
            await changes.acknowledge(actor)

        await acting.guarded(acknowledge_as_pressed(), actor, what="button")

    @app.action("post_update")
    @deps.acks.first
    async def post_update(ack: AsyncAck, actor: Actor, client: AsyncWebClient) -> None:
        await ack()

        async def open_update_form() -> None:
            async with deps.db.transaction() as session:
                incident = await acting.incident_here(session, actor)
            if incident.is_resolved:
                raise IncidentResolved(title=incident.title, resolved_at=incident.resolved_at)
            await client.views_open(trigger_id=actor.trigger_id or "",
                                    view=update_modal(deps, incident, channel_id=incident.channel_id or ""))

        await acting.guarded(open_update_form(), actor, what="button")

    @app.view(UPDATE_CALLBACK)
    @deps.acks.first
    async def update_submitted(ack: AsyncAck, view: dict[str, Any], actor: Actor) -> None:
        command = await read_or_refuse(deps.messages, ack, read_update_modal, view)
        if command is None:
            return
        await acting.run(changes.post_update, command, actor)

    for action_id, form in FORMS.items():
        def opener(form: Form = form) -> Listener:
            async def open_form(ack: AsyncAck, action: dict[str, Any], actor: Actor, client: AsyncWebClient) -> None:
                await ack()

                async def show() -> None:
                    incident = await open_incident(deps, interactions.number(action.get("value")))
                    await client.views_open(trigger_id=actor.trigger_id or "", view=form(deps, incident))

                await acting.guarded(show(), actor)
            return open_form

        app.action(action_id)(deps.acks.first(opener()))

    def submitted(read: Callable[[dict[str, dict[str, Any]], str], command_line.Command],
                  handler: Callable[[Any, Actor], Any]) -> Listener:
        async def run(ack: AsyncAck, view: dict[str, Any], actor: Actor) -> None:
            command = await read_or_refuse(deps.messages, ack, lambda values: read(values, actor.user_id), view)
            if command is None:
                return
            await acting.run(handler, command, actor)
        return run

    app.view(SEVERITY_CALLBACK)(deps.acks.first(submitted(lambda values, user: read_severity_modal(values),
                                                          changes.change_severity)))
    app.view(ROLE_CALLBACK)(deps.acks.first(submitted(read_role_modal, changes.assign_role)))
    app.view(RESOLVE_CALLBACK)(deps.acks.first(submitted(lambda values, user: read_resolve_modal(values),
                                                         changes.resolve)))
