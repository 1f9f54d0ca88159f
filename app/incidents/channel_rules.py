"""How people work in an incident's channel, read from playbooks/channel.yml."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, model_validator

from app.policy_files import PositiveDuration, StrictModel


class TimelineRules(StrictModel):
    reaction: str = "pushpin"  # the emoji's name, without colons


class BookmarkRules(StrictModel):
    # Where people read the plan and its playbooks (a wiki page, the repository); empty: no bookmark.
    plan_url: Annotated[str, Field(pattern=r"^(https?://\S+)?$")] = ""


class ChannelRules(StrictModel):
    timeline: TimelineRules = TimelineRules()
    bookmarks: BookmarkRules = BookmarkRules()
    archive_after: PositiveDuration = timedelta(days=7)  # after resolution, once the review is published
    archive_notice: PositiveDuration = timedelta(days=1)  # the channel is told this long before

    @model_validator(mode="after")
    def _notice_first(self) -> ChannelRules:
        if self.archive_notice >= self.archive_after:
            raise ValueError("archive_notice must be shorter than archive_after")
        return self
