"""Action items in the tracker, seen from Slack: filing each one (with its owner's e-mail for Jira's
assignee), closing the issue when the item is done here, and marking the item done when its issue is
finished there (webhook or the periodic sync). Each is due work, so a tracker outage delays it only."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents import service
from app.incidents.models import Incident
from app.reviews import action_items
from app.reviews.errors import ActionItemAlreadyDone
from app.reviews.models import ActionItem
from app.slack.reviews.review import Reviews
from app.slack.toolkit.acting import Acting
from app.slack.toolkit.calls import run_step
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.posting import post_once
from app.slack.toolkit.text import SLACK_CHANNEL_LINK
from app.trackers import service as trackers
from app.trackers.issues import Filed, NewIssue, Tracker


class TrackerSync:
    def __init__(self, deps: Deps, tracker: Tracker) -> None:
        self.deps = deps
        self.acting = Acting(deps)
        self.tracker = tracker
        self.rules = deps.integrations.tracker_rules
        self.reviews = Reviews(deps)

    # -- due work -----------------------------------------------------------------------------

    async def file(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """TRACKER_FILE: the item becomes an issue, once, however often this is tried."""
        async with self.deps.db.transaction() as session:
            item = await trackers.item_numbered(session, incident.id, attempt.work.key)
        if item is None:
            return Fired(outcome="cancelled")
        if item.tracker_key:
            return Fired(outcome="skipped")
        owner = item.owner
        email = await attempt.once("owner e-mail", partial(self._email, owner), retry=False) if owner else ""
        issue = self._issue(incident, item, email or None)
        filed = await attempt.once("file", lambda: self._create(issue),
                                   recover=lambda: self._find(issue.marker))
        if filed is None:
            return await self._failed(attempt, incident, item, "file")
        async with self.deps.db.transaction() as session:
            stored = await trackers.item_numbered(session, incident.id, attempt.work.key)
            assert stored is not None
            await trackers.record_filed(session, stored, self.tracker.name, Filed(**filed),
                                        sync_every=self.rules.sync_every, now=now)
            item = stored
        if incident.channel_id:
            await post_once(self.deps.client, attempt, "post", incident.channel_id, self.deps.messages.render(
                "action_item_filed.j2", incident=incident, action_item=item, tracker=self.tracker.label))
        await self.reviews.refresh(incident.id)
        return Fired(events=[("action_item_filed",
                              f"Action item #{item.number} filed in {self.tracker.label} as {item.tracker_key}")])

    async def close(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """TRACKER_CLOSE: the item was done in Slack; its issue is closed (moved to a done status) too."""
        async with self.deps.db.transaction() as session:
            item = await trackers.item_numbered(session, incident.id, attempt.work.key)
        if item is None or not item.tracker_key:
            return Fired(outcome="cancelled")
        key = item.tracker_key
        if await attempt.once("close", lambda: self.tracker.close(key)) is None:
            return await self._failed(attempt, incident, item, "close")
        return Fired(events=[("action_item_closed", f"Closed {key} in {self.tracker.label}: "
                                                    f"action item #{item.number} was done in Slack")])

    async def update(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """TRACKER_UPDATE: the item was edited in Slack; its issue is edited to match."""
        async with self.deps.db.transaction() as session:
            item = await trackers.item_numbered(session, incident.id, attempt.work.key)
        if item is None or not item.tracker_key:
            return Fired(outcome="cancelled")
        key, owner = item.tracker_key, item.owner
        email = await attempt.once("owner e-mail", partial(self._email, owner), retry=False) if owner else ""
        issue = self._issue(incident, item, email or None)
        if await attempt.once("update", lambda: self.tracker.update(key, issue)) is None:
            return await self._failed(attempt, incident, item, "update")
        return Fired(events=[("action_item_updated", f"Updated {key} in {self.tracker.label} to match action item "
                                                     f"#{item.number}")])

    async def sync(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        """TRACKER_SYNC: each open item's issue, asked whether it is finished (for a webhook lost or not set)."""
        async with self.deps.db.transaction() as session:
            items = await trackers.open_filed_items(session, incident.id, self.tracker.name)
        if not items:
            return Fired(outcome="finished")
        for item in items:
            key = item.tracker_key or ""
            if await attempt.once(f"check {key}", partial(self.tracker.is_done, key)):
                await self.finished(self.tracker.name, key)
        return Fired()

    # -- finished in the tracker --------------------------------------------------------------

    async def finished(self, tracker: str, key: str) -> bool:
        """The issue was finished in the tracker: its item is done here, said in the channel. False when
        there is no such item or it was done already (a webhook delivered twice, a sync after a webhook)."""
        try:
            incident, item = await self._complete(tracker, key)
        except (ActionItemAlreadyDone, LookupError):
            return False
        if incident.channel_id:
            steps = await run_step("post action item", self.deps.summary.post(
                incident.channel_id, self.deps.messages.render(
                    "action_item_changed.j2", incident=incident, action_item=item, change="closed_in_tracker",
                    actor=None, reminder_at=None, tracker=self.tracker.label)))
            await self.acting.record_failures(incident, steps.failures)
        await self.reviews.refresh(incident.id)
        return True

    async def _complete(self, tracker: str, key: str) -> tuple[Incident, ActionItem]:
        async with self.deps.db.transaction() as session:
            item = await trackers.item_filed_as(session, tracker, key)
            if item is None:
                raise LookupError(key)
            incident = await service.get_incident(session, item.incident_id)
            done = await action_items.complete_action_item(
                session, incident, item.number, self.deps.policy.followup.action_items, by=None,
                now=self.deps.clock.now(), closed_in=self.tracker.label)
            return incident, done

    # -- helpers ------------------------------------------------------------------------------

    def _issue(self, incident: Incident, item: ActionItem, email: str | None) -> NewIssue:
        link = f"{SLACK_CHANNEL_LINK}{incident.channel_id}" if incident.channel_id else ""
        return NewIssue(
            summary=item.text, description=self.deps.messages.text("tracker_issue.j2", incident=incident,
                                                                    action_item=item),
            link=link or "https://slack.com", link_text=self.deps.messages.text(
                "tracker_issue_link.j2", incident=incident),
            priority=item.priority, due_on=item.due_on, owner_email=email, owner=item.owner,
            marker=trackers.marker(incident.id, item.number))

    async def _email(self, user_id: str) -> str:
        person = (await self.deps.client.users_info(user=user_id))["user"]
        return str((person.get("profile") or {}).get("email") or "")

    async def _create(self, issue: NewIssue) -> dict[str, Any]:
        filed = await self.tracker.create(issue)
        return {"key": filed.key, "url": filed.url}

    async def _find(self, marker: str) -> dict[str, Any] | None:
        filed = await self.tracker.find(marker)
        return {"key": filed.key, "url": filed.url} if filed else None

    async def _failed(self, attempt: Attempt, incident: Incident, item: ActionItem, what: str) -> Fired:
        """A refusal that will not pass by trying again is said in the channel; an outage is retried quietly."""
        if attempt.retry or not incident.channel_id:
            return Fired()
        failure = attempt.failures[-1].error
        await post_once(self.deps.client, attempt, "post failure", incident.channel_id, self.deps.messages.render(
            "action_item_not_filed.j2", incident=incident, action_item=item, tracker=self.tracker.label,
            what=what, failure=failure))
        return Fired(outcome="failed")
