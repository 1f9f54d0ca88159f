"""What follows in Slack from an incident naming a service of the catalog (playbooks/services.yml).

- `owners.py`: a service named once the channel exists has its owning team invited (SERVICE_OWNERS due work);
  the services named at declaration have theirs invited by the channel's setup, in its one invitation
- `paging.py`: a service named has its on-call paged, once per incident and service (SERVICE_PAGE due work),
  through the page records and acknowledgement rules the roles use; the backup on-call for its unanswered page
  and its resolution are the clock's (app/slack/clock/pages.py)
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from app.duework.models import WorkKind
from app.slack.services.owners import OwnerInvitations
from app.slack.services.paging import ServicePaging
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import Feature


def register(app: AsyncApp, deps: Deps) -> Feature:
    return Feature(due_work={WorkKind.SERVICE_OWNERS: OwnerInvitations(deps).fire,
                             WorkKind.SERVICE_PAGE: ServicePaging(deps).fire})
