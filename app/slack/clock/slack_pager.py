"""Paging through Slack: a direct message to each person and an invitation to the incident channel."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from app.duework.attempt import Attempt
from app.oncall.pagers import Page, RecordPage
from app.oncall.pages import Sent
from app.slack.toolkit.messages import Messages
from app.slack.toolkit.people import find_people
from app.slack.toolkit.posting import post_once


class SlackPager:
    reaches_service = False  # a DM needs someone to send it to
    routing_key_name = None

    def __init__(self, client: AsyncWebClient, messages: Messages) -> None:
        self.client = client
        self.messages = messages

    async def trigger(self, page: Page, attempt: Attempt, record: RecordPage) -> str:
        people = await find_people(self.client, attempt, page.people)
        if people:  # written down before the first DM goes out
            await record(Sent(page_key=page.key, roles=page.roles, via="slack", recipients=tuple(people)))
        message = self.messages.render("page.j2", page=page)
        paged = [person for person in people
                 if await post_once(self.client, attempt, f"page {person}", person, message)]
        if page.channel_id and people:
            await attempt.once(f"invite paged {page.key}", lambda: self._invite(page.channel_id or "", people))
        return f"Paged {', '.join(paged) or 'nobody'} in Slack ({page.reason})"

    async def _invite(self, channel_id: str, people: list[str]) -> bool:
        try:
            await self.client.conversations_invite(channel=channel_id, users=",".join(people))
        except SlackApiError as error:
            if error.response.get("error") != "already_in_channel":
                raise
        return True

    async def resolve(self, incident_id: int, title: str, attempt: Attempt,
                      dedup_keys: tuple[str, ...]) -> str | None:
        return None  # a Slack page keeps no state to close
