"""Reading what Slack sends with a button press or a form. Our own messages and forms always send the
shapes read here; anything else is a stale or forged interaction, answered as such, never a crash."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from sqlalchemy.exc import NoResultFound

from app.incidents.errors import IncidentError

T = TypeVar("T")
LARGEST_ID = 2**31 - 1  # the database's integer ids


class StaleInteraction(IncidentError):
    """A button or form that none of our current messages carries (an old message, or a forged one)."""

    template = "errors/stale_interaction.j2"


def number(value: object, *, low: int = 1, high: int = LARGEST_ID) -> int:
    """A button's value that is a number (an id, minutes), within what our messages put there."""
    text = value.strip() if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise StaleInteraction()
    return int(text)


def text(value: object) -> str:
    return value if isinstance(value, str) else ""


def form_answers(state: object) -> dict[str, dict[str, Any]]:
    """A submitted form's answers by block id: each of our input blocks holds one element."""
    values = state.get("values") if isinstance(state, dict) else None
    answers: dict[str, dict[str, Any]] = {}
    for block, fields in (values.items() if isinstance(values, dict) else ()):
        element = next((f for f in fields.values() if isinstance(f, dict)), None) if isinstance(fields, dict) else None
        if element is not None:
            answers[block] = element
    return answers


def typed(answers: dict[str, dict[str, Any]], block: str) -> str:
    """What was typed in a text input, stripped ("" when the block is missing)."""
    return text(answers.get(block, {}).get("value")).strip()


def chosen(answers: dict[str, dict[str, Any]], block: str) -> str | None:
    """The value of the option chosen in a select (None when nothing was chosen)."""
    option = answers.get(block, {}).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


async def refers_to_something(work: Awaitable[T]) -> T:
    """A button naming a row that does not exist (a forged id) is a stale interaction."""
    try:
        return await work
    except NoResultFound:
        raise StaleInteraction() from None
