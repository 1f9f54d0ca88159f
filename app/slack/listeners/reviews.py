"""The post-incident review and action items: their /incident subcommands and the review form."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from app.slack.action_items import ActionItemFlows
from app.slack.flows import IncidentFlows
from app.slack.listeners.actions import pressed_by
from app.slack.listeners.views import form_submitter, read_or_refuse
from app.slack.meetings import MEETING_CALLBACK, SCHEDULE_BUTTON, MeetingFlows, read_meeting_form
from app.slack.review_commands import (
    AddActionItem,
    CompleteActionItem,
    EditActionItem,
    ListActionItems,
    OpenMeetingForm,
    OpenReview,
    ScheduleMeeting,
    StartActionItem,
    SubmitReview,
)
from app.slack.reviews import REVIEW_CALLBACK, ReviewFlows, read_review_form, read_review_form_metadata


def register(app: AsyncApp, flows: IncidentFlows) -> None:
    reviews = ReviewFlows(flows)
    items = ActionItemFlows(flows, reviews)
    flows.handlers[OpenReview] = lambda command, actor: reviews.open_form(actor)
    flows.handlers[SubmitReview] = reviews.submit
    for command in (ListActionItems, AddActionItem, EditActionItem, StartActionItem, CompleteActionItem):
        flows.handlers[command] = items.run
    meetings = MeetingFlows(flows)
    flows.handlers[OpenMeetingForm] = lambda command, actor: meetings.open_form(actor)
    flows.handlers[ScheduleMeeting] = meetings.schedule

    @app.action(SCHEDULE_BUTTON)
    @flows.acks.first
    async def schedule_pressed(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = pressed_by(body, respond)
        await flows.guarded(meetings.open_form(actor, trigger_id=body.get("trigger_id")), actor, what="button")

    @app.view(MEETING_CALLBACK)
    @flows.acks.first
    async def meeting_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                                client: AsyncWebClient) -> None:
        command = await read_or_refuse(flows, ack, read_meeting_form, view)  # type: ignore[arg-type]
        if command is None:
            return
        await flows.run(command, form_submitter(body, view, client))  # type: ignore[arg-type]

    @app.view(REVIEW_CALLBACK)
    @flows.acks.first
    async def review_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                               client: AsyncWebClient) -> None:
        command = await read_or_refuse(flows, ack, read_review_form, view)  # type: ignore[arg-type]
        if command is None:
            return
        channel_id, seen = read_review_form_metadata(view.get("private_metadata") or "")
        await flows.run(replace(command, seen=seen),  # type: ignore[type-var]
                        form_submitter(body, view, client, channel_id=channel_id or None))
