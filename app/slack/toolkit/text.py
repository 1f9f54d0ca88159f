"""Text the way Slack handles it: what people type is cleaned as it arrives, fields are split around
Slack's `<...>` entities, and text we send is cut to Slack's limits, which Slack counts in UTF-16 code units.
Pure functions."""

from __future__ import annotations

import re

ELLIPSIS = "…"

# With the manifest's should_escape, Slack sends a person, a channel, a user group, a link or a date as one
# `<...>` entity (`<@U123|bob>`, `<#C123|general>`, `<!subteam^S123|@oncall>`, `<https://x.y|label>`), and
# `&`, `<` and `>` that people typed as `&amp;`, `&lt;` and `&gt;`. A `|` inside an entity is part of it.
_FIELD_OR_ENTITY = re.compile(r"<[^<>]*>|\|")
_PIECE = re.compile(r"<[^<>]*>|&(?:amp|lt|gt);|.", re.DOTALL)

_CONTROLS = [*range(0x20), 0x7F, *range(0x80, 0xA0)]  # C0, DEL and C1
_SINGLE_LINE = {code: None for code in _CONTROLS} | {ord(c): " " for c in "\t\n\r\v\f"}
_MULTI_LINE = {code: None for code in _CONTROLS} | {ord("\t"): "\t", ord("\n"): "\n", ord("\r"): "\n"}


def clean(text: str, *, multiline: bool = True) -> str:
    """People's text without control characters (NUL, BEL, ESC, ...). Newlines and tabs stay where the
    field may hold several lines; elsewhere they become spaces."""
    if multiline:
        text = text.replace("\r\n", "\n")
    return text.translate(_MULTI_LINE if multiline else _SINGLE_LINE)


_ENTITY = re.compile(r"<([@#!][^<>]*|(?:https?|mailto|tel):[^<>]*)>")  # not `<errors>` typed in a form
_BROADCASTS = {"!channel": "@channel", "!here": "@here", "!everyone": "@everyone"}
_UNESCAPE = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}


def readable(text: str) -> str:
    """People's text as they typed it, for showing back without any of its powers: Slack's escapes undone
    (`&amp;` is `&`), and each entity as words, so showing a title pings nobody. `<@U1|bob>` is `@bob`,
    `<#C1|general>` `#general`, `<!channel>` `@channel`, `<!subteam^S1|@oncall>` `@oncall`, a date its
    fallback, `<https://x|docs>` `docs (https://x)`. The caller escapes the result for Slack."""
    def words(match: re.Match[str]) -> str:
        inside = match.group(1)
        target, _, label = inside.partition("|")
        if target in _BROADCASTS:
            return _BROADCASTS[target]
        if target[:1] in "@#":
            return label if label.startswith(("@", "#")) else f"{target[0]}{label or target[1:]}"
        if target.startswith("!"):  # a user group, a date, ...: what Slack would show without it
            return label or target[1:].split("^", 1)[0]
        return f"{label} ({target})" if label and label != target else target

    text = _ENTITY.sub(words, text)
    return re.sub(r"&(?:amp|lt|gt);", lambda m: _UNESCAPE[m.group()], text)


def split_fields(text: str, maxsplit: int = -1) -> list[str]:
    """Split at each `|` outside Slack's `<...>` entities (at most maxsplit times, when it is not negative);
    each part stripped. `ask <@U1|bob> | carts fail` is ["ask <@U1|bob>", "carts fail"]."""
    parts: list[str] = []
    start = 0
    for match in _FIELD_OR_ENTITY.finditer(text):
        if match.group() != "|":
            continue
        if 0 <= maxsplit <= len(parts):
            break
        parts.append(text[start:match.start()].strip())
        start = match.end()
    parts.append(text[start:].strip())
    return parts


def utf16_length(text: str) -> int:
    """The length Slack checks against its limits: UTF-16 code units (an emoji is usually two)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """The text, or as much of it as fits in `limit` UTF-16 code units followed by an ellipsis. Cut between
    characters and never inside an entity (`<@U123>`, `<!date^...>`, `&amp;`): an entity that does not fit
    is left out whole."""
    if utf16_length(text) <= limit:
        return text
    budget = limit - utf16_length(ELLIPSIS)
    if budget < 0:
        return ""
    kept: list[str] = []
    for match in _PIECE.finditer(text):
        size = utf16_length(match.group())
        if size > budget:
            break
        kept.append(match.group())
        budget -= size
    return "".join(kept).rstrip() + ELLIPSIS


SLACK_CHANNEL_LINK = "https://slack.com/app_redirect?channel="  # opens the channel in the reader's workspace
