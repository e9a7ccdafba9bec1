"""What the bot says, as structure: people, channels, emphasis and links stay what they are,
and each front renders them for where the words go — Slack mrkdwn (`bot/slack/views/mrkdwn.py`),
plain text for the console (`bot/console/render.py`). Nothing here is markup for a reader.

    Text("Lead is now ", Mention("U01BOB"), ".")     a sentence naming someone
    Text(Strong("owner"), ": Ana Lima")              emphasis, as data

`str(text)` is the plain form (people as `@U…`, channels as `#C…`), for logs and for callers
that only want the words. `stored_text` is the one place the core writes the timeline's stored
form, which keeps people as `<@U…>` (see `bot/paging/words.py` for a page's message).
"""

from __future__ import annotations

__all__ = [
    "ChannelRef",
    "Code",
    "Link",
    "Mention",
    "Part",
    "Strong",
    "Text",
    "joined",
    "plain",
    "stored_text",
]

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Mention:
    """A person by id: a Slack user id, or a shell user's name."""

    user: str


@dataclass(frozen=True)
class ChannelRef:
    channel_id: str


@dataclass(frozen=True)
class Strong:
    """Words that stand out: a heading, a row's label."""

    text: str


@dataclass(frozen=True)
class Code:
    """A command to type or an id to copy, as written: `/lucia incident ack #7`."""

    text: str


@dataclass(frozen=True)
class Link:
    url: str
    label: str | None = None


Part = str | Mention | ChannelRef | Strong | Code | Link


class Text:
    """A sequence of parts. Plain strings are what they say: never markup."""

    __slots__ = ("parts",)
    parts: tuple[Part, ...]

    def __init__(self, *parts: Part | Text) -> None:
        flat: list[Part] = []
        for part in parts:
            if isinstance(part, Text):
                flat.extend(part.parts)
            elif part != "":
                flat.append(part)
        object.__setattr__(self, "parts", tuple(flat))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Text is immutable")

    def __add__(self, other: Part | Text) -> Text:
        return Text(self, other)

    def __radd__(self, other: Part) -> Text:
        return Text(other, self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and other.parts == self.parts

    def __hash__(self) -> int:
        return hash(self.parts)

    def __repr__(self) -> str:
        return f"Text{self.parts!r}"

    def __str__(self) -> str:
        return plain(self)

    def __bool__(self) -> bool:
        return bool(self.parts)


def joined(separator: Part, texts: Iterable[Part | Text]) -> Text:
    """The texts one after another, with `separator` between them."""
    parts: list[Part | Text] = []
    for i, text in enumerate(texts):
        if i:
            parts.append(separator)
        parts.append(text)
    return Text(*parts)


def plain(text: str | Text, channel_name: Callable[[str], str] = str) -> str:
    """The words without markup: people as `@id`, channels as `#name`, links as `label (url)`."""
    if isinstance(text, str):
        return text
    out = []
    for part in text.parts:
        match part:
            case str():
                out.append(part)
            case Mention(user=user):
                out.append(f"@{user}")
            case ChannelRef(channel_id=channel):
                out.append(f"#{channel_name(channel)}")
            case Strong(text=words):
                out.append(words)
            case Code(text=code):
                out.append(f"`{code}`")
            case Link(url=url, label=label):
                out.append(f"{label} ({url})" if label and label != url else url)
    return "".join(out)


def stored_text(text: Text) -> str:
    """The form timeline events and step results are stored in: plain, with people kept by
    id as `<@U…>` (each front shows them its own way when it reads them back). A storage
    format, not a rendering; its readers are `bot/postmortem/names.py` and the fronts."""
    out = []
    for part in text.parts:
        match part:
            case Mention(user=user):
                out.append(f"<@{user}>")
            case ChannelRef(channel_id=channel):
                out.append(f"<#{channel}>")
            case _:
                out.append(plain(Text(part)))
    return "".join(out)
