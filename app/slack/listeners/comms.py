"""Communications: `/incident comms`, the Edit and Approve buttons on a draft, and the edit form."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from app.slack import parsing
from app.slack.comms import EDIT_CALLBACK, CommsFlows
from app.slack.flows import Actor, IncidentFlows
from app.slack.messages import Message
from app.slack.views import form_values


def _pressed_by(body: dict[str, Any], respond: AsyncRespond) -> Actor:
    async def reply(message: Message) -> None:
        await respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())

    return Actor(user_id=body["user"]["id"], channel_id=(body.get("channel") or {}).get("id"), reply=reply)


def read_edit(flows: IncidentFlows, view: dict[str, Any]) -> tuple[dict[str, str | None], dict[str, str]]:
    """The edit form's answers, and problems keyed by the block they belong to."""
    values = form_values(view)
    answers = {name: (values[name].get("value") or "").strip() if name in values else None
               for name in ("subject", "body")}
    problems = {}
    if not answers["body"]:
        problems["body"] = "missing_text"
    if answers["subject"] is not None and not answers["subject"]:
        problems["subject"] = "missing_subject"
    return answers, {block: flows.messages.text("comms/edit_field.j2", problem=problem)
                     for block, problem in problems.items()}


def register(app: AsyncApp, flows: IncidentFlows, comms: CommsFlows) -> None:
    flows.handlers[parsing.DraftComms] = comms.draft

    @app.action("comms_edit")
    async def edit(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = _pressed_by(body, respond)
        await flows.guarded(comms.open_editor(actor, int(action["value"]), body["trigger_id"]), actor)

    @app.action("comms_approve")
    async def approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        actor = _pressed_by(body, respond)
        await flows.guarded(comms.approve(actor, int(action["value"])), actor)

    @app.view(EDIT_CALLBACK)
    async def edit_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                             client: AsyncWebClient) -> None:
        answers, problems = read_edit(flows, view)
        if problems:
            await ack(response_action="errors", errors=problems)
            return
        await ack()
        metadata = json.loads(view["private_metadata"])
        user_id, channel_id = body["user"]["id"], metadata["channel"]

        async def reply(message: Message) -> None:
            await client.chat_postEphemeral(channel=channel_id, user=user_id, **message.as_kwargs())

        actor = Actor(user_id, channel_id, reply)
        seen_edit = datetime.fromisoformat(metadata["edited_at"]) if metadata.get("edited_at") else None
        await flows.guarded(comms.save_edit(actor, int(metadata["draft"]), seen_edit=seen_edit,
                                            subject=answers["subject"], body=answers["body"] or ""), actor)
