"""/incident stats: the figures, privately, with the signed link to the page that charts them."""

from __future__ import annotations

from app.incidents.errors import UsageError
from app.insights.figures import insights
from app.slack.toolkit.acting import Actor
from app.slack.toolkit.command_line import ShowStats
from app.slack.toolkit.deps import Deps


class StatsAnswers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.links = deps.links.insights

    async def show(self, command: ShowStats, actor: Actor) -> None:
        rules = self.deps.policy.insights
        window = rules.window(command.window)
        if window is None:
            raise UsageError(subcommand="stats", problem="bad_window", given=command.window,
                             windows=list(rules.windows), default=rules.default)
        now = self.deps.clock.now()
        async with self.deps.db.transaction() as session:
            figures = await insights(session, window, now=now, catalog=self.deps.policy.services)
        await actor.reply(self.deps.messages.render(
            "stats.j2", insights=figures, insights_url=self.links.url(window.name, now),
            public_url_set=bool(self.links.signed.public_url), link_valid=rules.link_valid,
            windows=list(rules.windows)))
