"""The App Home tab: published when someone opens it; its Declare button opens the declare form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from app.slack.deliveries import once_per_event
from app.slack.flows import IncidentFlows
from app.slack.home import HomeTab
from app.slack.views import declare_modal

DECLARE_ACTION = "home_declare"


def register(app: AsyncApp, flows: IncidentFlows) -> None:
    home = HomeTab(flows)
    flows.changed.append(home.soon)

    @app.event("app_home_opened", middleware=[once_per_event(flows)])
    @flows.acks.first
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":  # the Messages tab opening is not ours to draw
            await home.opened(event["user"])

    @app.action(DECLARE_ACTION)
    @flows.acks.first
    async def declare_from_home(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=declare_modal(flows, channel_id=None))
