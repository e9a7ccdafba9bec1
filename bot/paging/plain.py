"""A page in plain text, for places where Slack's markup means nothing (e-mail, push):
people by name, channels as #name, links with their address, commands as written."""

from __future__ import annotations

__all__ = ["plain_lines", "plain_title", "plain_words"]

from bot.paging.ports import PageMessage
from bot.paging.words import Broadcast, ChannelRef, Code, Link, Person, Words


def plain_words(words: Words) -> str:
    parts = []
    for segment in words:
        match segment:
            case str():
                parts.append(segment)
            case Person(name=name):
                parts.append(name)
            case ChannelRef(channel_id=channel, name=name):
                parts.append(f"#{name or channel}")
            case Link(url=url, label=label):
                address = url.removeprefix("mailto:")
                parts.append(f"{label} ({address})" if label and label != address else address)
            case Broadcast(label=label):
                parts.append(f"@{label}")
            case Code(text=code):
                parts.append(f"“{code}”")
    return "".join(parts)


def plain_title(page: PageMessage) -> str:
    """One line: a subject or a notification title can't carry line breaks."""
    return " ".join(plain_words(page.title).split())


def plain_lines(page: PageMessage) -> str:
    """The lines under the title."""
    return "\n".join(plain_words(line) for line in page.lines)
