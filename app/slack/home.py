"""The App Home tab: open incidents (private ones only for the people in them), my incidents and roles, who is
on call now and next, my open action items, and a Declare button. Published when someone opens it."""

from __future__ import annotations

from typing import Any

from app.incidents import service
from app.reviews import action_items
from app.slack.flows import Actor, IncidentFlows

# Block Kit allows 100 blocks in a Home tab: the fixed blocks take 10, each list at most its cap plus one
# "…and N more" line, so 10 + (40 + 1) + (20 + 1) + (20 + 1) = 93.
SHOWN_INCIDENTS = 40
SHOWN_ROLES = 20
SHOWN_ITEMS = 20
MAX_BLOCKS = 100


async def _nobody(message: Any) -> None:
    return None


class HomeTab:
    def __init__(self, flows: IncidentFlows) -> None:
        self.flows = flows

    async def view(self, user_id: str) -> dict[str, Any]:
        now = self.flows.clock.now()
        async with self.flows.db.transaction() as session:
            incidents = await service.open_incidents(session)
            items, items_count = await action_items.open_items_of(session, user_id, limit=SHOWN_ITEMS)
        visible = await self.flows.visible_to(Actor(user_id, None, _nobody), incidents)
        roles = self.flows.policy.roles
        mine = [(incident, [roles[role].name for role, holder in incident.role_holders().items() if holder == user_id])
                for incident in visible if user_id in {incident.declared_by, *incident.role_holders().values()}]
        current, upcoming = self.flows.roster.now_and_next(now)
        view = self.flows.messages.view(
            "views/home.yml.j2", incidents=visible[:SHOWN_INCIDENTS], open_count=len(visible),
            mine=mine[:SHOWN_ROLES], mine_count=len(mine), current=current, upcoming=upcoming, my_items=items,
            my_items_count=items_count)
        assert len(view["blocks"]) <= MAX_BLOCKS, "the caps above keep the Home tab within Slack's limit"
        return view

    async def publish(self, user_id: str) -> None:
        await self.flows.client.views_publish(user_id=user_id, view=await self.view(user_id))
