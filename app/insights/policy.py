"""How far back insights look, and how long the page's link works: playbooks/insights.yml."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from app.policy_files import PositiveDuration, StrictModel, parse_duration


@dataclass(frozen=True)
class Window:
    """A span people ask for by name (`30d`): the incidents declared in the last `span`."""

    name: str
    span: timedelta


def _duration_name(text: str) -> str:
    if parse_duration(text) <= timedelta(0):
        raise ValueError("must be longer than zero")
    return text.replace(" ", "")


WindowName = Annotated[str, AfterValidator(_duration_name)]


class InsightsRules(StrictModel):
    """playbooks/insights.yml (a playbooks directory without it gets these defaults)."""

    windows: Annotated[tuple[WindowName, ...], Field(min_length=1)] = ("30d", "90d")
    default: WindowName = "30d"
    link_valid: PositiveDuration = timedelta(hours=24)

    @model_validator(mode="after")
    def _default_is_a_window(self) -> InsightsRules:
        if self.default not in self.windows:
            raise ValueError(f"default {self.default!r} must be one of the windows ({', '.join(self.windows)})")
        return self

    def window(self, name: str | None) -> Window | None:
        """The window of that name (None: the default); None if there is no such window."""
        name = (name or self.default).strip().lower()
        return Window(name, parse_duration(name)) if name in self.windows else None
