"""People's words in the review's Markdown are data, not markup: no heading, table row, list, code, emphasis or
link of their own, whatever they typed. Used as the `markdown` and `markdown_url` filters
(app/slack/toolkit/messages.py)."""

from __future__ import annotations

import re

# Inline markup: emphasis, code spans, link and image brackets, table cells, and the escape character itself.
# Raw HTML and autolinks need `<`, which arrives as `&lt;` (Slack's escaping runs first): an entity is text.
_INLINE = re.compile(r"([\\`*_\[\]|])")
# What makes a line a block of its own: a heading, a quote, a list item, a thematic break, a setext
# underline, a fence. After newlines are gone, only the start of the text can open one.
_BLOCK_START = re.compile(r"^([#>+=-]|~~~)|^(\d{1,9})([.)])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\u0085\v\f]+")
_WEB_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)


def inert(text: str) -> str:
    """One line of text that Markdown shows as typed: newlines become spaces (a single-line field cannot
    start a heading or a table row) and every character that would be markup is backslash-escaped."""
    line = _LINE_BREAKS.sub(" ", text).strip()
    line = _INLINE.sub(r"\\\1", line)
    return _BLOCK_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line, count=1)


def web_url(url: str) -> str:
    """A link target that is an http(s) address, made safe inside `(...)`; anything else (javascript:, data:,
    a relative path) is no link at all: ""."""
    url = url.strip()
    if not _WEB_URL.match(url):
        return ""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E")
