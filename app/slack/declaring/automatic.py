"""A failing health check or an alert declares through the same flow people use: as the bot itself, with the
primary on-call as Incident Commander (the plan's IC contact is the on-call)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from app.detection.detector import Alongside, Declaration, DeclaringAs
from app.incidents.models import Incident, Role
from app.slack.declaring.declarations import Declarations
from app.slack.toolkit import command_line
from app.slack.toolkit.acting import Actor
from app.slack.toolkit.messages import Message
from app.slack.toolkit.people import resolve_people

log = logging.getLogger(__name__)
# An on-call's Slack user, looked up by e-mail, is asked again after this: in the background, while alerts go on
# being declared with the one remembered (a sender never waits for Slack once it has been asked).
ASK_AGAIN_AFTER = timedelta(minutes=10)


class SlackDeclarer:
    def __init__(self, declarations: Declarations) -> None:
        self.declarations = declarations
        self.deps = declarations.deps
        self._bot_user_id: str | None = None
        self._found: dict[str, tuple[str, datetime]] = {}  # on-call as configured -> (Slack user, when looked up)
        self._asking = asyncio.Lock()  # a burst of alerts asks Slack once
        self._asking_again: set[str] = set()  # on-calls looked up again in the background now

    async def ready(self) -> DeclaringAs:
        """The bot declares; the primary on-call commands. Remembered: a burst of alerts asks Slack once."""
        async with self._asking:
            return DeclaringAs(declared_by=await self._bot(), roles=await self._commander())

    async def __call__(self, declaration: Declaration, alongside: Alongside,
                       declaring_as: DeclaringAs | None = None, *, set_up_later: bool = False) -> Incident:
        """Stored, then set up in Slack; `set_up_later`: the setup starts after this returns, so whoever is
        waiting (an alert's sender) is not held up by Slack's pacing."""
        declaring_as = declaring_as or await self.ready()
        known = [key for key in declaration.services if key in self.deps.policy.services]
        if len(known) < len(declaration.services):
            log.info("%s named services not in playbooks/services.yml, left out: %s", declaration.check,
                     ", ".join(self.deps.policy.services.unknown(declaration.services)))
        command = command_line.Declare(severity=declaration.severity, title=declaration.title,
                                       impact=declaration.impact, roles=dict(declaring_as.roles),
                                       kind=declaration.kind, services=tuple(known))
        actor = Actor(user_id=declaring_as.declared_by, channel_id=None, reply=self._tell_log, is_bot=True)
        incident = await self.declarations.declare(command, actor, alongside=alongside, set_up_later=set_up_later)
        assert incident is not None  # the bot is never offered a look-alike
        return incident

    async def _bot(self) -> str:
        if self._bot_user_id is None:
            self._bot_user_id = str((await self.deps.client.auth_test())["user_id"])
        return self._bot_user_id

    async def _commander(self) -> dict[Role, str]:
        """The primary on-call commands; with nobody on call the bot holds the role until someone takes it."""
        primary = self.deps.roster.shift_at(self.deps.clock.now()).primary
        if primary is None:
            return {}
        found = self._found.get(primary)
        if found is None:
            return await self._look_up(primary)
        if self.deps.clock.now() - found[1] >= ASK_AGAIN_AFTER and primary not in self._asking_again:
            self._asking_again.add(primary)
            self.deps.acks.start(self._look_up_again(primary), name=f"looking up the on-call {primary} again")
        return {Role.IC: found[0]}

    async def _look_up(self, primary: str) -> dict[Role, str]:
        try:
            [person] = await resolve_people(self.deps.client, [primary])
        except SlackApiError as error:
            self._found.pop(primary, None)
            log.warning("On-call %s not found in Slack (%s); the bot holds the IC role until someone takes it", primary,
                        error.response.get("error"))
            return {}
        self._found[primary] = (person, self.deps.clock.now())
        return {Role.IC: person}

    async def _look_up_again(self, primary: str) -> None:
        try:
            await self._look_up(primary)
        finally:
            self._asking_again.discard(primary)

    @staticmethod
    async def _tell_log(message: Message) -> None:
        # The bot declared (a health check or an alert): nobody waits for a private answer. The announcement is the
        # public notice, and any Slack step that failed is on the incident's timeline too. Not its words in the log:
        # they quote the title, which a private incident (a data breach) keeps to its channel.
        log.info("Automatic declaration answered (%d characters, not logged: they may name a private incident)",
                 len(message.text))
