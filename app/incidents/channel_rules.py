"""How people work in an incident's channel, read from playbooks/channel.yml."""

from __future__ import annotations

from app.policy_files import StrictModel


class TimelineRules(StrictModel):
    reaction: str = "pushpin"  # the emoji's name, without colons


class ChannelRules(StrictModel):
    timeline: TimelineRules = TimelineRules()
