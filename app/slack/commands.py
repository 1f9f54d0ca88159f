"""/incident: parse, acknowledge at once, then hand over to the feature that declared the command (each
feature's `Feature.commands` table). A command typed outside any incident channel is offered again with a
button per open incident (`run_for_incident`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app.incidents.errors import UsageError
from app.slack.declaring.declarations import Declarations
from app.slack.declaring.form import declare_modal
from app.slack.toolkit import command_line
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import CommandHandler


class Commands:
    """Every /incident subcommand, by command type, to the feature that carries it out."""

    def __init__(self, deps: Deps, table: Mapping[type, CommandHandler]) -> None:
        """`table` is read, not copied: the bootstrap fills it once every feature has declared its commands,
        before anything is served (app/slack/bootstrap.py says why /incident is registered before them)."""
        self.acting = Acting(deps)
        self.table = table

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
    async def incident_command(ack: AsyncAck, command: dict[str, Any], actor: Actor, client: AsyncWebClient) -> None:
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
        if isinstance(parsed, command_line.Declare):
            # Written down at once (with the others of a burst, in one transaction), so the incident itself
            # can be stored after the burst is answered without a crash meanwhile losing it.
            await acting.guarded(declarations.receive(actor), actor, what="declare")
            if actor.receipt is None:
                return
        await commands.run(parsed, actor)

    @app.action("run_for_incident")
    @deps.acks.first
    async def run_for_incident(ack: AsyncAck, action: dict[str, Any], actor: Actor) -> None:
        await ack()
        # The answer takes the picker's place, so its buttons cannot run the command a second time.
        actor.reply = actor.replace_message or actor.reply

        async def run_it() -> None:
            await commands.run(command_line.chosen_for_incident(action["value"], deps.policy.playbooks.keys(),
                                                                deps.policy.services.keys()), actor)

        await acting.guarded(run_it(), actor, what="button")
