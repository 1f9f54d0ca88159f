"""Declaring an incident: from `/incident declare`, the declare form, a health check or an alert; setting it up
in Slack (channel, people, topic, kickoff, announcement, checklist) as due work; and the declarations
written down but never stored, declared by a later sweep.

- `declarations.py`: storing a declaration (or offering the open incident it looks like)
- `form.py` and `listeners.py`: the declare form, and join or declare anyway
- `channel_setup.py`: the SETUP due work
- `unsettled.py`: received, never stored, declared by a sweep
- `automatic.py`: the bot declaring for a health check or an alert
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp

from app.duework.models import WorkKind
from app.slack.declaring import listeners
from app.slack.declaring.automatic import SlackDeclarer
from app.slack.declaring.channel_setup import ChannelSetup
from app.slack.declaring.declarations import Declarations
from app.slack.declaring.unsettled import UnsettledDeclarations
from app.slack.toolkit import command_line
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import Feature


@dataclass(frozen=True)
class Declaring(Feature):
    declarations: Declarations | None = None  # the /incident command writes a typed declaration down first
    declarer: SlackDeclarer | None = None  # health checks and alerts declare through it


def register(app: AsyncApp, deps: Deps, declarations: Declarations) -> Declaring:
    """`declarations`: shared with the /incident command, registered before any feature (app/slack/bootstrap.py)."""
    listeners.register(app, deps, declarations)
    return Declaring(
        commands={command_line.Declare: declarations.declare},
        due_work={WorkKind.SETUP: ChannelSetup(deps).fire},
        sweeps=(UnsettledDeclarations(declarations).declare,),
        declarations=declarations,
        declarer=SlackDeclarer(declarations))
