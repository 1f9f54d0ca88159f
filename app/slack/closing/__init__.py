"""After an incident ends: its channel archived (`archiving.py`), `/incident reopen` (`reopening.py`), and the
published review bookmarked in the channel (BOOKMARK due work, through app/slack/toolkit/bookmarks.py, which
also gives a new channel its bookmarks at setup)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from app.duework.models import WorkKind
from app.slack.closing.archiving import ChannelArchiving
from app.slack.closing.reopening import Reopening
from app.slack.toolkit import command_line
from app.slack.toolkit.bookmarks import ChannelBookmarks
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.feature import Feature


def register(app: AsyncApp, deps: Deps) -> Feature:
    return Feature(
        commands={command_line.Reopen: Reopening(deps).reopen},
        due_work={WorkKind.ARCHIVE: ChannelArchiving(deps).fire,
                  WorkKind.BOOKMARK: ChannelBookmarks(deps).fire})
