"""The incident's timeline from the conversation: a :pushpin: on a message in its channel (`reactions.py`), the
"Add to incident timeline" message shortcut from any channel (`shortcut.py`), both through `pins.py`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from app.slack.timeline import reactions, shortcut
from app.slack.timeline.pins import TimelinePins
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import Feature


def register(app: AsyncApp, deps: Deps) -> Feature:
    pins = TimelinePins(deps)
    reactions.register(app, deps, pins)
    shortcut.register(app, deps, pins)
    return Feature()
