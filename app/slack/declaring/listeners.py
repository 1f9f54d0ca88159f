"""Declaring from Slack's surfaces: the declare form (opened by `/incident declare` alone or the Home tab's
Declare button) and its submission, and the choice offered when a declaration looks like an incident
already open: join it, or declare anyway."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app.slack.declaring.declarations import Declarations
from app.slack.declaring.form import DECLARE_CALLBACK, declare_modal, read_declare_modal
from app.slack.toolkit import command_line
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.forms import read_or_refuse

HOME_DECLARE_ACTION = "home_declare"  # the Home tab's Declare button (messages/views/home.yml.j2)


def register(app: AsyncApp, deps: Deps, declarations: Declarations) -> None:
    acting = Acting(deps)

    @app.action("join_incident")
    @deps.acks.first
    async def join(ack: AsyncAck, action: dict[str, Any], actor: Actor) -> None:
        await ack()
        await acting.guarded(declarations.join(actor, int(action["value"])), actor)

    @app.action("declare_anyway")
    @deps.acks.first
    async def declare_anyway(ack: AsyncAck, action: dict[str, Any], actor: Actor) -> None:
        await ack()
        await acting.run(declarations.declare, command_line.Declare.chosen(action["value"]), actor)

    @app.view(DECLARE_CALLBACK)
    @deps.acks.first
    async def declare_submitted(ack: AsyncAck, view: dict[str, Any], actor: Actor) -> None:
        command = await read_or_refuse(
            deps.messages, ack, lambda values: read_declare_modal(values, deps.policy.playbooks.keys(),
                                                             deps.policy.services.keys()), view)
        if command is None:
            return
        # The form says so itself (declare_modal): its declarer hears back by direct message.
        await acting.run(declarations.declare, command, actor)

    @app.action(HOME_DECLARE_ACTION)
    @deps.acks.first
    async def declare_from_home(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=declare_modal(deps, channel_id=None))
