"""What follows in Slack from an incident naming a service of the catalog (playbooks/services.yml).

- `owners.py`: a service named once the channel exists has its owning team invited (SERVICE_OWNERS due work);
  the services named at declaration have theirs invited by the channel's setup, in its one invitation
- Paging the service's on-call is not here yet: it is to go through the page records and acknowledgement
  rules the roles use (app/slack/clock), as another kind of due work keyed by service, planned next to
  SERVICE_OWNERS in app/incidents/affected.py.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from app.duework.models import WorkKind
from app.slack.services.owners import OwnerInvitations
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import Feature


def register(app: AsyncApp, deps: Deps) -> Feature:
    return Feature(due_work={WorkKind.SERVICE_OWNERS: OwnerInvitations(deps).fire})
