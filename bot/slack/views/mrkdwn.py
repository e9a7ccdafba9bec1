"""Slack mrkdwn for what people typed, for dates and for who did something."""

from __future__ import annotations

__all__ = ["date", "escape", "mentions_kept", "who"]

import re
from datetime import datetime

from bot.vocabulary import SYSTEM_ACTOR

_USER_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")


def escape(text: str) -> str:
    """Plain text (what people typed) made safe for mrkdwn: no surprise @channel or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mentions_kept(escaped: str) -> str:
    """Escaped text with its people mentions made live again (`<@U…>` only: never
    `<!channel>` or a link)."""
    return _USER_MENTION.sub(r"<@\1>", escaped)


def date(at: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A time each reader sees in their own zone, UTC where Slack can't format it."""
    stamp = int(at.timestamp())
    return f"<!date^{stamp}^{fmt}|{at:%Y-%m-%d %H:%M} UTC>"


def who(user: str | None) -> str:
    if not user:
        return "_nobody yet_"
    return "Lucia" if user == SYSTEM_ACTOR else f"<@{user}>"
