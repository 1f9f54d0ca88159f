"""Stakeholder communications: `/incident comms` drafts the plan's template in the incident channel
(`drafts.py`), Edit and Approve on the draft and the edit form (`listeners.py`), and an approved status-page
update published to Statuspage.io as due work (`statuspage.py`)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from app.duework.models import WorkKind
from app.slack.comms import listeners
from app.slack.comms.drafts import CommsDrafts
from app.slack.comms.statuspage import ComponentRestorer, StatuspagePublisher
from app.slack.toolkit import command_line
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import Feature


def register(app: AsyncApp, deps: Deps) -> Feature:
    drafts = CommsDrafts(deps)
    listeners.register(app, deps, drafts)
    statuspage = deps.integrations.statuspage
    return Feature(
        commands={command_line.DraftComms: drafts.draft},
        due_work={**({WorkKind.STATUSPAGE_PUBLISH: StatuspagePublisher(deps, statuspage).fire} if statuspage else {}),
                  WorkKind.STATUSPAGE_COMPONENTS: ComponentRestorer(deps, statuspage).fire})
