"""Forms (Slack modals) as every feature reads them: the answers by block, typed text cleaned as it arrives,
problems sent back next to their fields, and what a form carries so that whoever submits it is answered where it
was opened (FormMetadata)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck

from app.incidents.errors import UsageError
from app.slack.toolkit import interactions
from app.slack.toolkit.messages import Messages
from app.slack.toolkit.text import clean


def form_values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A submitted form's element states by block (interactions.form_answers: never a crash on a shape our forms
    do not send), typed text cleaned as it arrives: newlines and tabs are kept only in the inputs the form
    made multi-line."""
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        blocks = []
    multiline = {block.get("block_id") for block in blocks
                 if isinstance(block, dict) and isinstance(block.get("element"), dict)
                 and block["element"].get("multiline")}
    values = {}
    for block, element in interactions.form_answers(view.get("state")).items():
        element = dict(element)
        if isinstance(element.get("value"), str):
            element["value"] = clean(element["value"], multiline=block in multiline)
        values[block] = element
    return values


async def read_or_refuse(messages: Messages, ack: AsyncAck, read: Callable[[dict[str, dict[str, Any]]], Any],
                         view: dict[str, Any]) -> Any | None:
    """The form's answers as a command; problems go back to the form, next to the fields they concern."""
    try:
        command = read(form_values(view))
    except UsageError as error:
        problems = error.details.get("problems")
        if not isinstance(problems, dict):
            raise TypeError(f"a form's problems are by block, not {problems!r}") from error
        errors = {block: messages.text("errors/modal_field.j2", problem=problem) for block, problem in problems.items()}
        await ack(response_action="errors", errors=errors)
        return None
    await ack()
    return command


@dataclass(frozen=True)
class FormMetadata:
    """What a form carries for whoever submits it, in Slack's private_metadata (returned untouched with the
    submission), as app/slack/toolkit/who_acted.py reads it to answer them. The one convention: a JSON object
    whose "channel" is where the form was opened, "response_url" where to answer instead (a form opened from a
    shortcut), "answer": "dm" to answer by direct message even so (the declare form), and whatever else the form
    keeps under keys of its own. A form that keeps nothing but its channel may carry the channel id alone, as
    every form opened before the convention did."""

    channel: str | None
    response_url: str | None = None
    by_dm: bool = False

    @classmethod
    def read(cls, metadata: object) -> FormMetadata:
        """Never a crash: metadata of any other shape names no channel (the submitter hears back by DM)."""
        if not isinstance(metadata, str):
            return cls(None)
        if not metadata.startswith("{"):
            return cls(metadata or None)
        try:
            data = json.loads(metadata)
        except ValueError:
            return cls(None)
        if not isinstance(data, dict):
            return cls(None)
        return cls(_text(data.get("channel")), _text(data.get("response_url")), data.get("answer") == "dm")


def form_metadata(*, channel: str | None, response_url: str | None = None, by_dm: bool = False,
                  **kept: Any) -> str:
    """A form's private_metadata by the convention FormMetadata reads, with what else the form keeps."""
    answer = {"answer": "dm"} if by_dm else {}
    where = {"response_url": response_url} if response_url else {}
    return json.dumps({"channel": channel, **where, **answer, **kept}, ensure_ascii=False)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
