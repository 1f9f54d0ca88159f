"""After resolution: the post-incident review (`review.py`: the form, the document, the reminders to the IC),
action items (`action_items.py`: their commands and the owners' reminders), the post-mortem meeting
(`meetings.py`), and action items kept in step with the tracker (`trackers.py`). The review and meeting
forms' listeners are `listeners.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from app.duework.models import WorkKind
from app.slack.reviews import listeners
from app.slack.reviews.action_items import ActionItemReminders, ActionItems
from app.slack.reviews.meetings import MeetingReminders, Meetings
from app.slack.reviews.review import ReviewReminders, Reviews
from app.slack.reviews.trackers import TrackerSync
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import DueWorkHandler, Feature
from app.slack.toolkit.review_commands import (
    AddActionItem,
    CompleteActionItem,
    EditActionItem,
    ListActionItems,
    OpenMeetingForm,
    OpenReview,
    ScheduleMeeting,
    StartActionItem,
    SubmitReview,
)


@dataclass(frozen=True)
class Reviewing(Feature):
    # An issue finished in the tracker (its webhook, app/trackers/web.py): the item is done here too.
    tracker_finished: Callable[[str, str], Awaitable[bool]] | None = None


def register(app: AsyncApp, deps: Deps) -> Reviewing:
    reviews = Reviews(deps)
    items = ActionItems(deps, reviews)
    meetings = Meetings(deps)
    listeners.register(app, deps, reviews, meetings)
    due_work: dict[WorkKind, DueWorkHandler] = {
        WorkKind.REVIEW_DUE: ReviewReminders(deps).fire,
        WorkKind.ACTION_ITEM_DUE: ActionItemReminders(deps).fire,
        WorkKind.MEETING_REMINDER: MeetingReminders(deps).fire,
    }
    cadences = {}
    tracking = None
    if deps.integrations.tracker is not None:
        tracking = TrackerSync(deps, deps.integrations.tracker)
        due_work |= {WorkKind.TRACKER_FILE: tracking.file, WorkKind.TRACKER_CLOSE: tracking.close,
                     WorkKind.TRACKER_UPDATE: tracking.update, WorkKind.TRACKER_SYNC: tracking.sync}
        cadences[WorkKind.TRACKER_SYNC] = deps.integrations.tracker_rules.sync_every
    return Reviewing(
        commands={OpenReview: lambda command, actor: reviews.open_form(actor),
                  SubmitReview: reviews.submit,
                  **{command: items.run for command in (ListActionItems, AddActionItem, EditActionItem,
                                                        StartActionItem, CompleteActionItem)},
                  OpenMeetingForm: lambda command, actor: meetings.open_form(actor),
                  ScheduleMeeting: meetings.schedule},
        due_work=due_work,
        cadences=cadences,
        tracker_finished=tracking.finished if tracking is not None else None)
