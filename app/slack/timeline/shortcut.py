"""The message shortcut "Add to incident timeline" (manifest.yml features.shortcuts) and the form it may open."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from app.slack.timeline.pins import TIMELINE_PICK_CALLBACK, ChosenMessage, TimelinePins
from app.slack.toolkit import interactions
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.forms import form_values

TIMELINE_SHORTCUT = "add_to_timeline"


def register(app: AsyncApp, deps: Deps, pins: TimelinePins) -> None:
    acting = Acting(deps)

    @app.shortcut(TIMELINE_SHORTCUT)
    @deps.acks.first
    async def add_to_timeline(ack: AsyncAck, shortcut: dict[str, Any], actor: Actor) -> None:
        await ack()

        async def add() -> None:
            message = await pins.chosen_message(shortcut["channel"]["id"], shortcut["message"])
            await pins.shortcut(actor, message)

        await acting.guarded(add(), actor, what="note")

    @app.view(TIMELINE_PICK_CALLBACK)
    @deps.acks.first
    async def incident_picked(ack: AsyncAck, view: dict[str, Any], actor: Actor) -> None:
        chosen = interactions.chosen(form_values(view), "incident")
        if not chosen or not chosen.isdigit():
            await ack(response_action="errors",
                      errors={"incident": deps.messages.text("errors/modal_field.j2", problem="missing_incident")})
            return
        await ack()
        message, _ = ChosenMessage.from_metadata(view["private_metadata"])  # its response_url: the actor's
        await acting.guarded(pins.picked(actor, message, int(chosen)), actor, what="note")
