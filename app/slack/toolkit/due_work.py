"""What the clock does in Slack when work falls due: each kind of due work is carried out by the feature that
declared it (its `Feature.due_work` table); this is the one worker the sweeper (app/duework/sweeper.py) calls.

Each firing is a few steps (see app/duework/attempt.py): the post in the incident channel is the
essential one, and a lookup, DM or page that fails never keeps it from going out. The failure is
said in the post and on the timeline, once, and only the part that failed is tried again.
Posts go out once however often the work is tried (app/slack/toolkit/posting.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.duework.attempt import Attempt
from app.duework.models import DueWork, WorkKind
from app.duework.sweeper import Fired
from app.incidents.deadlines import OPEN_WORK
from app.incidents.models import Incident
from app.incidents.policy import Policy
from app.incidents.service import record
from app.oncall import pages as page_records
from app.oncall.pagers import Pagers
from app.oncall.pages import PAGES_RESOLVED
from app.slack.toolkit.failures import classify
from app.slack.toolkit.feature import DueWorkHandler
from app.slack.toolkit.messages import Messages
from app.slack.toolkit.posting import post_once

REMINDER_STEP = "post reminder"  # the update reminder's post: the newest is the one the next supersedes


class SlackClockWorker:
    classify = staticmethod(classify)

    def __init__(self, *, client: AsyncWebClient, messages: Messages, policy: Policy, pagers: Pagers,
                 handlers: Mapping[WorkKind, DueWorkHandler], cadences: Mapping[WorkKind, timedelta]) -> None:
        self.handlers = dict(handlers)
        # Recurring work other than update reminders, and how often it comes round (resolved or not).
        self.cadences = dict(cadences)
        self.client = client
        self.messages = messages
        self.policy = policy
        self.pagers = pagers

    def cadence(self, work: DueWork, incident: Incident) -> timedelta | None:
        if work.kind in self.cadences:
            return self.cadences[work.kind]
        if work.is_recurring and not incident.is_resolved:
            return self.policy.for_severity(incident.severity).update_every
        return None

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        work = attempt.work
        if incident.is_resolved and work.kind in OPEN_WORK:
            return Fired(outcome="cancelled")
        if work.kind in self.handlers:
            return await self.handlers[work.kind](attempt, incident, now)
        raise AssertionError(f"no handler for due work {work.kind}")

    async def settle(self, session: AsyncSession, attempt: Attempt, incident: Incident, fired: Fired,
                     now: datetime) -> None:
        for kind, text in fired.events:
            record(session, incident, kind=kind, actor=None, now=now, text=text)
        resolved = attempt.results.get(PAGES_RESOLVED)
        if resolved:
            await page_records.mark_resolved(session, incident.id, resolved, now=now)
        posted = attempt.results.get(REMINDER_STEP) if attempt.work.kind is WorkKind.UPDATE_REMINDER else None
        if posted:
            # The newest reminder (or one adopted after an interruption) is the one the next supersedes.
            incident.reminder_ts = posted["ts"]

    async def gave_up(self, attempt: Attempt, incident: Incident) -> None:
        """One-off work failed for the last time: say so where the responders are."""
        if not incident.channel_id:
            return
        message = self.messages.render("clock_gave_up.j2", incident=incident, work=attempt.work,
                                       failures=attempt.failures)
        await post_once(self.client, attempt, "gave up", incident.channel_id, message)
