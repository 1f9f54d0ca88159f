"""Paging through Slack: a direct message to each person and an invitation to the incident channel."""

from __future__ import annotations

import asyncio

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.oncall.pagers import Page
from app.slack.messages import Messages
from app.slack.people import resolve_people


class SlackPager:
    def __init__(self, client: AsyncWebClient, messages: Messages) -> None:
        self.client = client
        self.messages = messages

    async def trigger(self, page: Page) -> str:
        people = await resolve_people(self.client, page.people)
        message = self.messages.render("page.j2", page=page)
        await asyncio.gather(*(self.client.chat_postMessage(channel=person, **message.as_kwargs())
                               for person in people))
        if page.channel_id and people:
            try:
                await self.client.conversations_invite(channel=page.channel_id, users=",".join(people))
            except SlackApiError as error:
                if error.response.get("error") != "already_in_channel":
                    raise
        return f"Paged {', '.join(people) or 'nobody'} in Slack ({page.reason})"

    async def resolve(self, incident_id: int, title: str) -> str | None:
        return None  # a Slack page keeps no state to close
