"""The clock in Slack: what happens when time runs out on an incident.

- `reminders.py`: the update reminder (and its Snooze button)
- `pages.py`: paging the roles a severity calls for, the backup when nobody acknowledged, resolving pages
- `pages_shown.py`: the kickoff redrawn when a page goes out or is acknowledged in PagerDuty
- `slack_pager.py`: paging through Slack itself (a DM and an invitation)
- `escalation.py`: escalating to management
- `legal_deadlines.py`: a private incident's compliance deadlines, and `/incident notified`
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from app.duework.models import WorkKind
from app.slack.clock.escalation import Escalation
from app.slack.clock.legal_deadlines import LegalDeadlines
from app.slack.clock.pages import Pages
from app.slack.clock.pages_shown import PagesShown
from app.slack.clock.reminders import UpdateReminders
from app.slack.toolkit import command_line
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import Feature


def register(app: AsyncApp, deps: Deps) -> Feature:
    reminders = UpdateReminders(deps)
    reminders.register(app)
    pages = Pages(deps)
    legal = LegalDeadlines(deps)
    return Feature(
        commands={command_line.Notified: legal.notified},
        due_work={
            WorkKind.UPDATE_REMINDER: reminders.fire,
            WorkKind.ACK_DEADLINE: pages.page_backup,
            WorkKind.PAGE: pages.page_roles,
            WorkKind.PAGE_RESOLVE: pages.resolve_pages,
            WorkKind.PAGES_SHOWN: PagesShown(deps).fire,
            WorkKind.ESCALATION: Escalation(deps).fire,
            WorkKind.COMPLIANCE_DEADLINE: legal.fire,
        })
