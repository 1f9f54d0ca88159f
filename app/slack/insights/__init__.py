"""`/incident stats` (`stats.py`): the figures, privately, with the signed link to the page that charts them
(app/insights)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from app.slack.insights.stats import StatsAnswers
from app.slack.toolkit import command_line
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import Feature


def register(app: AsyncApp, deps: Deps) -> Feature:
    return Feature(commands={command_line.ShowStats: StatsAnswers(deps).show})
