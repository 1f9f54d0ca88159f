"""The places an incident shows in Slack: its channel, its topic, the pinned kickoff (the living
summary) and the one announcement in the incidents channel. Edited in place, never re-posted."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from app.incidents.models import Incident
from app.incidents.policy import Policy
from app.slack.toolkit.calls import Steps, run_steps
from app.slack.toolkit.messages import Message, Messages
from app.slack.toolkit.text import fit

MAX_TOPIC = 250  # UTF-16 code units, as Slack counts

log = logging.getLogger(__name__)


class IncidentSummary:
    def __init__(self, client: AsyncWebClient, messages: Messages, policy: Policy,
                 incidents_channel: str | None) -> None:
        self.client = client
        self.messages = messages
        self.policy = policy
        self.incidents_channel = incidents_channel

    def context(self, incident: Incident, **extra: Any) -> dict[str, Any]:
        return {
            "incident": incident,
            "policy": self.policy.for_severity(incident.severity),
            "roles": self.policy.roles,
            "catalog": self.policy.services,
            **extra,
        }

    def kickoff(self, incident: Incident) -> Message:
        return self.messages.render("kickoff.j2", **self.context(incident))

    def announcement(self, incident: Incident) -> Message:
        return self.messages.render("announcement.j2", **self.context(incident))

    def topic(self, incident: Incident) -> str:
        return fit(self.messages.text("topic.txt.j2", **self.context(incident)), MAX_TOPIC)

    async def invite(self, channel_id: str, users: list[str]) -> Any:
        """Invite people; someone already there is not a failure."""
        if not users:
            return None
        try:
            return await self.client.conversations_invite(channel=channel_id, users=",".join(users))
        except SlackApiError as error:
            if error.response.get("error") == "already_in_channel":
                return error.response
            raise

    async def post(self, channel_id: str, message: Message) -> Any:
        return await self.client.chat_postMessage(channel=channel_id, unfurl_links=False, **message.as_kwargs())

    async def refresh(self, incident: Incident) -> Steps:
        """Bring the kickoff, the announcement and the topic in line with the incident."""
        if incident.channel_id is None:
            return Steps({}, [])
        return await run_steps(self.refresh_calls(incident))

    def refresh_calls(self, incident: Incident) -> dict[str, Any]:
        calls: dict[str, Any] = {}
        if incident.channel_id and incident.kickoff_ts:
            calls["update kickoff"] = self.client.chat_update(
                channel=incident.channel_id, ts=incident.kickoff_ts, **self.kickoff(incident).as_kwargs())
        if incident.announcement_channel_id and incident.announcement_ts:
            calls["update announcement"] = self.client.chat_update(
                channel=incident.announcement_channel_id, ts=incident.announcement_ts,
                **self.announcement(incident).as_kwargs())
        if incident.channel_id:
            calls["set topic"] = self.client.conversations_setTopic(
                channel=incident.channel_id, topic=self.topic(incident))
        return calls

    async def tell(self, message: Message, *, response_url: str | None, user_id: str | None) -> bool:
        """A private answer after the request: through its response_url while that lasts (30 minutes, five
        posts), else in a direct message; False if there was nobody to tell."""
        if response_url:
            response = await AsyncWebhookClient(response_url).send(
                response_type="ephemeral", replace_original=False, **message.as_kwargs())
            if response.status_code < 400:
                return True
            log.warning("A response_url refused a private answer (%s): %s", response.status_code, response.body)
        if user_id:
            await self.client.chat_postMessage(channel=user_id, **message.as_kwargs())
            return True
        return False
