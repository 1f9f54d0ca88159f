"""/incident: parse, acknowledge at once, then hand over to the feature that declared the command (each
feature's `Feature.commands` table). A command typed outside any incident channel is offered again with a
button per open incident (`run_for_incident`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from app.incidents.errors import UsageError
from app.slack.declaring.declarations import Declarations
from app.slack.declaring.form import declare_modal
from app.slack.toolkit import command_line
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import CommandHandler
from app.slack.toolkit.messages import Message


class Commands:
    """Every /incident subcommand, by command type, to the feature that carries it out."""

    def __init__(self, deps: Deps, table: Mapping[type, CommandHandler]) -> None:
        self.acting = Acting(deps)
        self.table = dict(table)

    async def run(self, command: command_line.Command, actor: Actor) -> None:
        """Carry out a parsed command; a known problem becomes a private answer."""
        await self.acting.guarded(self._dispatch(command, actor), actor, what=command_line.asked_for(command))

    async def _dispatch(self, command: command_line.Command, actor: Actor) -> None:
        if isinstance(command, command_line.Targeted):
            actor.incident_id = command.incident_id
            await self._dispatch(command.command, actor)
            return
        handler = self.table.get(type(command))
        if handler is None:
            raise AssertionError(f"unhandled command {command!r}")
        await handler(command, actor)


def register(app: AsyncApp, deps: Deps, commands: Commands, declarations: Declarations) -> None:
    acting = Acting(deps)

    @app.command("/incident")
    @deps.acks.first
    async def incident_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond,
                               client: AsyncWebClient) -> None:
        try:
            parsed = command_line.parse_command(command.get("text", ""), kinds=deps.policy.playbooks.keys(),
                                                services=deps.policy.services.keys())
        except UsageError as error:
            await ack(**acting.error_message(error).as_kwargs())
            return
        if isinstance(parsed, command_line.OpenDeclareModal):
            await ack()
            await client.views_open(trigger_id=command["trigger_id"],
                                    view=declare_modal(deps, channel_id=command.get("channel_id")))
            return
        if isinstance(parsed, command_line.Declare):
            await ack(**deps.messages.render("declaring.j2", command=parsed).as_kwargs())
        else:
            await ack()

        async def reply(message: Message) -> None:
            await respond(response_type="ephemeral", **message.as_kwargs())

        actor = Actor(user_id=command["user_id"], channel_id=command.get("channel_id"), reply=reply,
                      trigger_id=command.get("trigger_id"), response_url=command.get("response_url"),
                      typed=command.get("text"))
        if isinstance(parsed, command_line.Declare):
            # Written down at once (with the others of a burst, in one transaction), so the incident itself
            # can be stored after the burst is answered without a crash meanwhile losing it.
            await acting.guarded(declarations.receive(actor), actor, what="declare")
            if actor.receipt is None:
                return
        await commands.run(parsed, actor)

    @app.action("run_for_incident")
    @deps.acks.first
    async def run_for_incident(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                               respond: AsyncRespond) -> None:
        await ack()

        async def reply(message: Message) -> None:
            # The answer takes the picker's place, so its buttons cannot run the command a second time.
            await respond(response_type="ephemeral", replace_original=True, **message.as_kwargs())

        actor = Actor(user_id=body["user"]["id"], channel_id=(body.get("channel") or {}).get("id"), reply=reply,
                      trigger_id=body.get("trigger_id"), response_url=body.get("response_url"))

        async def run_it() -> None:
            await commands.run(command_line.chosen_for_incident(action["value"], deps.policy.playbooks.keys(),
                                                                deps.policy.services.keys()), actor)

        await acting.guarded(run_it(), actor, what="button")
