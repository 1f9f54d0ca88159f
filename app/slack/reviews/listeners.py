"""The review form and the post-mortem meeting's Schedule button and form."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from app.slack.reviews.meetings import MEETING_CALLBACK, SCHEDULE_BUTTON, Meetings, read_meeting_form
from app.slack.reviews.review import REVIEW_CALLBACK, Reviews, read_review_form, read_review_form_metadata
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.forms import read_or_refuse


def register(app: AsyncApp, deps: Deps, reviews: Reviews, meetings: Meetings) -> None:
    acting = Acting(deps)

    @app.action(SCHEDULE_BUTTON)
    @deps.acks.first
    async def schedule_pressed(ack: AsyncAck, actor: Actor) -> None:
        await ack()
        await acting.guarded(meetings.open_form(actor), actor, what="button")

    @app.view(MEETING_CALLBACK)
    @deps.acks.first
    async def meeting_submitted(ack: AsyncAck, view: dict[str, Any], actor: Actor) -> None:
        command = await read_or_refuse(deps.messages, ack, read_meeting_form, view)
        if command is None:
            return
        await acting.run(meetings.schedule, command, actor)

    @app.view(REVIEW_CALLBACK)
    @deps.acks.first
    async def review_submitted(ack: AsyncAck, view: dict[str, Any], actor: Actor) -> None:
        command = await read_or_refuse(deps.messages, ack, read_review_form, view)
        if command is None:
            return
        seen = read_review_form_metadata(view.get("private_metadata") or "")
        await acting.run(reviews.submit, replace(command, seen=seen), actor)
