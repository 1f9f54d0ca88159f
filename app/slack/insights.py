"""/incident stats: the figures, privately, with the signed link to the page that charts them."""

from __future__ import annotations

from app.incidents.errors import UsageError
from app.insights.figures import insights
from app.insights.links import InsightsLinks
from app.slack.flows import Actor, IncidentFlows
from app.slack.parsing import ShowStats


class StatsAnswers:
    def __init__(self, flows: IncidentFlows, links: InsightsLinks) -> None:
        self.flows = flows
        self.links = links

    async def show(self, command: ShowStats, actor: Actor) -> None:
        rules = self.flows.policy.insights
        window = rules.window(command.window)
        if window is None:
            raise UsageError(subcommand="stats", problem="bad_window", given=command.window,
                             windows=list(rules.windows), default=rules.default)
        now = self.flows.clock.now()
        async with self.flows.db.transaction() as session:
            figures = await insights(session, window, now=now)
        await actor.reply(self.flows.messages.render(
            "stats.j2", insights=figures, insights_url=self.links.url(window.name, now),
            public_url_set=bool(self.links.signed.public_url), link_valid=rules.link_valid,
            windows=list(rules.windows)))
