"""Typed text as people read it: chat markup and escaping undone, once, at the edge.

Slack hands a slash command's text over with `&`, `<` and `>` escaped and with mentions,
channels and links as `<…>` markup. Incidents store what the person meant, in plain text;
each front escapes it again for its own display, so a title can neither garble a channel
name nor ping `@channel` when it is shown.
"""

from __future__ import annotations

__all__ = ["plain_text"]

import html
import re

# Only Slack's own markup: <@…>, <#…>, <!…> and links. A bare "a < b > c" is left alone.
_MARKUP = re.compile(r"<((?:[@#!]|https?:|mailto:)[^<>|\s]*(?:\|[^<>]*)?)>")


def plain_text(text: str) -> str:
    return html.unescape(_MARKUP.sub(_readable, text))


def _readable(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith(("@", "#")):  # <@U123|bob>, <#C123|general>
        return target[0] + (label.lstrip("@#") or target[1:])
    if target.startswith("!"):  # <!channel>, <!subteam^S1|@oncall>, <!date^…|fallback>
        if target.startswith("!date"):
            return label
        return "@" + (label.lstrip("@") or target[1:].split("^", 1)[0])
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    return f"{label} ({target})" if label else target  # <https://x|the doc>
