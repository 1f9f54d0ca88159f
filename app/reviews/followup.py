"""After resolution (the plan's Phase 4), read from playbooks/followup.yml: when the post-incident review is
due, when the IC is reminded of it, and when owners hear about their action items."""

from __future__ import annotations

from datetime import UTC, time, timedelta
from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from app.policy_files import PositiveDuration, StrictModel


def _time_of_day(value: object) -> object:
    if isinstance(value, int):  # YAML reads an unquoted 9:00 as the number 540
        raise ValueError(f"{value!r} is not a time of day; write it in quotes, like \"09:00\"")
    return value


class ReviewRules(StrictModel):
    due_within: PositiveDuration  # after resolution
    remind_after: PositiveDuration  # after resolution; the IC is reminded again when it is due
    # How long the published review's private link works (read in the weeks after; publishing again signs anew).
    link_valid_for: PositiveDuration = timedelta(days=90)

    @model_validator(mode="after")
    def _reminder_first(self) -> ReviewRules:
        if self.remind_after >= self.due_within:
            raise ValueError("remind_after must be shorter than due_within")
        return self


class ActionItemRules(StrictModel):
    remind_days_before: int = Field(ge=0, strict=True)  # days before the due date
    remind_at: Annotated[time, BeforeValidator(_time_of_day)]  # UTC

    @property
    def remind_at_utc(self) -> time:
        return self.remind_at.replace(tzinfo=UTC)


class MeetingRules(StrictModel):
    """The plan's post-mortem meeting (Phase 4.1)."""

    length: PositiveDuration = timedelta(hours=1)  # how long the invite blocks
    remind_before: tuple[PositiveDuration, ...] = (timedelta(days=1), timedelta(hours=1))  # attendees get a DM


class Followup(StrictModel):
    """playbooks/followup.yml."""

    review: ReviewRules
    action_items: ActionItemRules
    meeting: MeetingRules = MeetingRules()
