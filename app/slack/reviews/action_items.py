"""Action items in Slack: add, edit, start and finish them in the incident's channel, list them
privately, and remind each owner by DM `remind_days_before` days before an item is due (playbooks/followup.yml)."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from app.duework.attempt import Attempt
from app.duework.models import WorkKind
from app.duework.sweeper import Fired
from app.incidents.models import Incident
from app.reviews import action_items
from app.reviews.errors import ActionItemUsage
from app.reviews.models import ActionItem
from app.slack.reviews.review import Reviews
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.calls import run_step
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.posting import post_once
from app.slack.toolkit.review_commands import (
    ActionItemCommand,
    AddActionItem,
    CompleteActionItem,
    EditActionItem,
    ListActionItems,
    StartActionItem,
)
from app.trackers import service as trackers

NUMBERING_ATTEMPTS = 5  # each round of colliding additions lets at least one through


class ActionItems:
    def __init__(self, deps: Deps, reviews: Reviews) -> None:
        self.deps = deps
        self.acting = Acting(deps)
        self.reviews = reviews

    async def run(self, command: ActionItemCommand, actor: Actor) -> None:
        if isinstance(command, ListActionItems):
            await self.show(actor)
            return
        if isinstance(command, AddActionItem | EditActionItem) and command.fields.owner:
            await self._check_owner(command.fields.owner)
        for attempt in range(1, NUMBERING_ATTEMPTS + 1):
            try:
                incident, item, change = await self._change(command, actor)
                break
            except IntegrityError:
                # Two additions at once took the same number (SQLite has no row lock to prevent it): again.
                if attempt == NUMBERING_ATTEMPTS or not isinstance(command, AddActionItem):
                    raise
        await self._announce(incident, item, change, actor)
        await self.reviews.refresh(incident.id)
        await self.deps.changed()  # an owner's open items are on their Home tab
        if self.deps.integrations.tracker is not None and change in ("added", "edited", "done"):
            # File (or close) it in the tracker now rather than at the next sweep; if the tracker is down,
            # the sweeps keep trying.
            await self.deps.fire_now(incident.id, [WorkKind.TRACKER_FILE, WorkKind.TRACKER_UPDATE,
                                                    WorkKind.TRACKER_CLOSE])

    async def _change(self, command: ActionItemCommand, actor: Actor) -> tuple[Incident, ActionItem, str]:
        """One transaction: the item as changed, and what happened to it."""
        now, by, rules = self.deps.clock.now(), actor.user_id, self.deps.policy.followup.action_items
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            match command:
                case AddActionItem(fields):
                    item = await action_items.add_action_item(session, incident, fields, rules, by=by, now=now)
                    if self.deps.integrations.tracker is not None:
                        await trackers.plan_filing(session, item, now=now)
                    return incident, item, "added"
                case EditActionItem(number, fields):
                    item = await action_items.edit_action_item(session, incident, number, fields, rules, by=by,
                                                               now=now)
                    await trackers.plan_update(session, item, now=now)
                    return incident, item, "edited"
                case StartActionItem(number):
                    return incident, await action_items.start_action_item(session, incident, number, by=by,
                                                                          now=now), "started"
                case CompleteActionItem(number):
                    return incident, await action_items.complete_action_item(session, incident, number, rules,
                                                                             by=by, now=now), "done"
        raise AssertionError(f"unhandled action item command {command!r}")

    async def show(self, actor: Actor) -> None:
        """/incident actions: the incident's items and their status, privately."""
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            items = await action_items.action_items(session, incident)
        await actor.reply(self.deps.messages.render("action_items.j2", incident=incident, action_items=items))

    async def _announce(self, incident: Incident, item: ActionItem, change: str, actor: Actor) -> None:
        tracker = self.deps.integrations.tracker
        message = self.deps.messages.render("action_item_changed.j2", incident=incident, action_item=item,
                                             change=change, actor=actor.user_id,
                                             tracker=tracker.label if tracker else None,
                                             reminder_at=action_items.reminder_at(
                                                 item, self.deps.policy.followup.action_items))
        if incident.channel_id is None:
            await actor.reply(message)
            return
        steps = await run_step("post action item", self.deps.summary.post(incident.channel_id, message))
        await self.acting.record_failures(incident, steps.failures)
        if steps.failures:
            await actor.reply(self.deps.messages.render("steps_failed.j2", incident=incident,
                                                         failures=steps.failures))

    async def _check_owner(self, user_id: str) -> None:
        """An item belongs to a real, active person in this workspace."""
        try:
            person = (await self.deps.client.users_info(user=user_id))["user"]
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "users_not_found"):
                raise ActionItemUsage(subcommand="action", problem="unknown_owner", given=user_id) from None
            raise
        if person.get("deleted") or person.get("is_bot"):
            raise ActionItemUsage(subcommand="action", problem="inactive_owner", given=user_id)


class ActionItemReminders:
    """What an action item row does when it falls due: a DM to the owner, unless the item is done."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        async with self.deps.db.transaction() as session:
            item = await action_items.item_to_remind(session, incident.id, attempt.work.key)
        if item is None or item.owner is None:
            return Fired(outcome="cancelled")
        message = self.deps.messages.render("action_item_reminder.j2", incident=incident, action_item=item, now=now)
        if await post_once(self.deps.client, attempt, "remind owner", item.owner, message) is None:
            return Fired()  # the failure is on the attempt
        return Fired(events=[("action_item_reminded",
                              f"Reminded {item.owner} that action item #{item.number} is due {item.due_on}")])
