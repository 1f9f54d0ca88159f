"""The App Home tab (`tab.py`): published when someone opens it, and drawn again in the background for the
people who opened it lately whenever an incident changes (the `changed` every feature calls, built by
app/slack/bootstrap.py). Its Declare button belongs to declaring/."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from app.slack.home.tab import HomeTab
from app.slack.toolkit.deliveries import once_per_event
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import Feature


def tab_for(deps: Deps) -> HomeTab:
    return HomeTab(db=deps.db, clock=deps.clock, client=deps.client, messages=deps.messages, policy=deps.policy,
                   roster=deps.roster)


def register(app: AsyncApp, deps: Deps) -> Feature:
    home = tab_for(deps)

    @app.event("app_home_opened", middleware=[once_per_event(deps)])
    @deps.acks.first
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":  # the Messages tab opening is not ours to draw
            await home.opened(event["user"])

    return Feature()
