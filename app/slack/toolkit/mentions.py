"""How Slack writes a person in a slash command's text."""

from __future__ import annotations

import re

# Slack escapes mentions as <@U123|name> when the command's "escape" option is on (the manifest sets it).
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
