"""Communications: `/incident comms`, the Edit and Approve buttons on a draft, and the edit form."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from app.slack.comms.drafts import EDIT_CALLBACK, CommsDrafts
from app.slack.toolkit import interactions
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.forms import form_values


def read_edit(deps: Deps, view: dict[str, Any]) -> tuple[dict[str, str | None], dict[str, str]]:
    """The edit form's answers, and problems keyed by the block they belong to."""
    values = form_values(view)
    answers = {name: interactions.typed(values, name) if name in values else None for name in ("subject", "body")}
    problems = {}
    if not answers["body"]:
        problems["body"] = "missing_text"
    if answers["subject"] is not None and not answers["subject"]:
        problems["subject"] = "missing_subject"
    return answers, {block: deps.messages.text("comms/edit_field.j2", problem=problem)
                     for block, problem in problems.items()}


def edited_draft(view: dict[str, Any]) -> tuple[int, datetime | None]:
    """The draft and the edit the form showed, as open_editor put them in its private_metadata (with the
    channel it was opened in: where its submitter is answered, toolkit/who_acted.py)."""
    try:
        metadata = json.loads(view.get("private_metadata") or "")
    except ValueError:
        raise interactions.StaleInteraction() from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("channel"), str):
        raise interactions.StaleInteraction()
    try:
        seen_edit = datetime.fromisoformat(metadata["edited_at"]) if metadata.get("edited_at") else None
    except (TypeError, ValueError):
        raise interactions.StaleInteraction() from None
    return interactions.number(str(metadata.get("draft"))), seen_edit


def approved_version(value: object) -> tuple[int, datetime | None]:
    """The draft and the version of it an Approve button was shown with ("<id>:<version>", CommsDraft.version).
    A button without a version predates versions: what its presser saw is unknown, so it approves nothing."""
    draft, separator, version = interactions.text(value).partition(":")
    if not separator:
        raise interactions.StaleInteraction()
    try:
        seen_edit = datetime.fromisoformat(version) if version else None
    except ValueError:
        raise interactions.StaleInteraction() from None
    if seen_edit is not None and seen_edit.tzinfo is None:
        raise interactions.StaleInteraction()
    return interactions.number(draft), seen_edit


def register(app: AsyncApp, deps: Deps, comms: CommsDrafts) -> None:
    acting = Acting(deps)

    @app.action("comms_edit")
    @deps.acks.first
    async def edit(ack: AsyncAck, action: dict[str, Any], actor: Actor) -> None:
        await ack()

        async def open_editor() -> None:
            await comms.open_editor(actor, interactions.number(action.get("value")), actor.trigger_id or "")

        await acting.guarded(interactions.refers_to_something(open_editor()), actor, what="button")

    @app.action("comms_approve")
    @deps.acks.first
    async def approve(ack: AsyncAck, action: dict[str, Any], actor: Actor) -> None:
        await ack()

        async def approve_draft() -> None:
            draft_id, seen_edit = approved_version(action.get("value"))
            await comms.approve(actor, draft_id, seen_edit=seen_edit)

        await acting.guarded(interactions.refers_to_something(approve_draft()), actor, what="button")

    @app.view(EDIT_CALLBACK)
    @deps.acks.first
    async def edit_submitted(ack: AsyncAck, view: dict[str, Any], actor: Actor) -> None:
        answers, problems = read_edit(deps, view)
        if problems:
            await ack(response_action="errors", errors=problems)
            return
        await ack()

        async def save_edit() -> None:
            # A form whose metadata names no channel is answered by direct message (toolkit/who_acted.py).
            draft_id, seen_edit = edited_draft(view)
            await comms.save_edit(actor, draft_id, seen_edit=seen_edit, subject=answers["subject"],
                                  body=answers["body"] or "")

        await acting.guarded(interactions.refers_to_something(save_edit()), actor, what="form")
