"""Slack mrkdwn for what people typed, for dates, for who did something, and for the core's
structured words (`bot.text`): the one place they become Slack markup."""

from __future__ import annotations

__all__ = ["date", "escape", "fallback", "literal", "mentions_kept", "render", "who"]

import re
from collections.abc import Callable
from datetime import datetime

from bot.text import ChannelRef, Code, Link, Mention, Strong, Text
from bot.vocabulary import SYSTEM_ACTOR

_USER_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")


def escape(text: str) -> str:
    """Plain text (what people typed) made safe for mrkdwn: no surprise @channel or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# mrkdwn has no escape for its emphasis characters: text that must read exactly as typed
# (what the public status page will say) gets look-alikes that Slack doesn't format.
_LOOK_ALIKES = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})


def literal(text: str) -> str:
    """Typed text shown as it will read elsewhere: escaped like `escape`, and with `*`,
    `_`, `~` and backticks swapped for look-alikes (∗ ˍ ∼ ˋ), so nothing turns bold,
    italic, struck or code, and nothing typed can close our own emphasis around it."""
    return escape(text).translate(_LOOK_ALIKES)


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


def render(text: Text) -> str:
    """The core's words as mrkdwn: plain parts escaped (keeping a stored `<@U…>` a live
    mention, as stored texts name people), people as mentions, channels as channel links,
    emphasis in bold. Markup is made here, never escaped into the message."""
    return _rendered(text, lambda part: mentions_kept(escape(part)))


def fallback(text: Text) -> str:
    """A message's notification text (`text` beside its blocks): as `render`, with plain
    parts as they are, so what is copied from a notification (a link) is what was said."""
    return _rendered(text, lambda part: part)


def _rendered(text: Text, plain: Callable[[str], str]) -> str:
    out = []
    for part in text.parts:
        match part:
            case str():
                out.append(plain(part))
            case Mention(user=user):
                out.append(who(user))
            case ChannelRef(channel_id=channel):
                out.append(f"<#{channel}>")
            case Strong(text=words):
                out.append(f"*{escape(words)}*")
            case Code(text=code):
                out.append(f"`{escape(code)}`")
            case Link(url=url, label=label):
                out.append(f"<{url}|{escape(label)}>" if label else f"<{url}>")
    return "".join(out)
