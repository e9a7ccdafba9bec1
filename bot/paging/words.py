"""What a page says, as structure: people, channels and links stay what they are, and each
channel renders them for where the words go — a Slack mention, a name in an e-mail or a
push, plain text on a terminal. Nothing here is markup for a reader.

A page's message is stored in Slack's markup (`<@U005>`, `<#C01|ops>`, `&lt;` for `<`): it is
how the words arrive from Slack, and the only plain string that keeps a person as their id.
`from_markup` and `to_markup` turn it into `Words` and back, losslessly.
"""

from __future__ import annotations

__all__ = [
    "Broadcast",
    "ChannelRef",
    "Code",
    "Link",
    "Person",
    "Segment",
    "Words",
    "from_markup",
    "is_slack_user",
    "timeline_text",
    "to_markup",
    "with_names",
]

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

# Slack's own markup only: <@…>, <#…>, <!…> and links. A bare "a < b > c" is text.
_MARKUP = re.compile(r"<((?:[@#!]|https?:|mailto:)[^<>|\s]*(?:\|[^<>]*)?)>")
_SLACK_USER = re.compile(r"[UW][A-Z0-9]+")


@dataclass(frozen=True)
class Person:
    """Someone the words name: the name to show, and their Slack user id when they have one."""

    name: str
    slack_user: str | None = None


@dataclass(frozen=True)
class ChannelRef:
    channel_id: str
    name: str | None = None  # as Slack labelled it, without the '#'


@dataclass(frozen=True)
class Link:
    url: str  # http(s) or mailto
    label: str | None = None


@dataclass(frozen=True)
class Broadcast:
    """`@here`, `@channel` or a user group as someone typed it: shown, never pinging."""

    label: str  # "here", "oncall"
    markup: str  # Slack's inner form ("!here", "!subteam^S1|@oncall"), for the stored text


@dataclass(frozen=True)
class Code:
    """A command to type, as written: `/lucia incident ack #7`."""

    text: str


Segment = str | Person | ChannelRef | Link | Broadcast | Code
Words = tuple[Segment, ...]


def is_slack_user(who: str) -> bool:
    """A Slack user id ("U01ALICE00"), not a shell user's name or Lucia herself."""
    return _SLACK_USER.fullmatch(who) is not None


def from_markup(text: str) -> Words:
    """Slack's markup (a message as Slack sent it, or as stored) as structure."""
    found: list[Segment] = []
    at = 0
    for match in _MARKUP.finditer(text):
        if match.start() > at:
            found.append(html.unescape(text[at : match.start()]))
        found.append(_segment(match.group(1)))
        at = match.end()
    if at < len(text):
        found.append(html.unescape(text[at:]))
    return _joined(found)


def to_markup(words: Words) -> str:
    """The stored form: every person's id, channel and link kept, the rest escaped."""
    parts = []
    for segment in words:
        match segment:
            case str():
                parts.append(_escape(segment))
            case Person(slack_user=str() as user, name=name):
                parts.append(f"<@{user}|{_escape(name)}>" if name else f"<@{user}>")
            case Person(name=name):
                parts.append(_escape(name))
            case ChannelRef(channel_id=channel, name=name):
                parts.append(f"<#{channel}|{_escape(name)}>" if name else f"<#{channel}>")
            case Link(url=url, label=label):
                parts.append(f"<{url}|{_escape(label)}>" if label else f"<{url}>")
            case Broadcast(markup=markup):
                parts.append(f"<{markup}>")
            case Code(text=code):
                parts.append(_escape(f"`{code}`"))
    return "".join(parts)


def with_names(words: Words, names: Mapping[str, str]) -> Words:
    """Each person the words name by Slack id, with the name `names` has for them."""
    return tuple(
        replace(s, name=names[s.slack_user])
        if isinstance(s, Person) and s.slack_user is not None and s.slack_user in names
        else s
        for s in words
    )


def timeline_text(words: Words) -> str:
    """As timeline events hold text: plain, with people by id (`<@U…>`), which each front
    shows its own way (a Slack mention, `@U…` on a terminal)."""
    parts = []
    for segment in words:
        match segment:
            case str():
                parts.append(segment)
            case Person(slack_user=str() as user):
                parts.append(f"<@{user}>")
            case Person(name=name):
                parts.append(name)
            case ChannelRef(channel_id=channel, name=name):
                parts.append(f"#{name or channel}")
            case Link(url=url, label=label):
                parts.append(f"{label} ({url})" if label and label != url else url)
            case Broadcast(label=label):
                parts.append(f"@{label}")
            case Code(text=code):
                parts.append(f"`{code}`")
    return "".join(parts)


def _segment(inner: str) -> Segment:
    target, _, label = inner.partition("|")
    label = html.unescape(label)
    if target.startswith("@"):  # <@U123>, <@U123|bob>
        user = target[1:]
        if is_slack_user(user):
            return Person(label.lstrip("@"), user)  # Slack's label, if any: a name is looked up
        return Person(label.lstrip("@") or user)
    if target.startswith("#"):  # <#C123|general>, <#C123>
        return ChannelRef(target[1:], label.lstrip("#") or None)
    if target.startswith("!"):
        if target.startswith("!date"):  # <!date^…|fallback>: its fallback text
            return label
        name = label.lstrip("@") or target[1:].split("^", 1)[0]
        return Broadcast(name, inner)
    return Link(target, label or None)  # http(s) and mailto


def _joined(segments: list[Segment]) -> Words:
    """Neighbouring text segments as one (a date's fallback between two texts, say)."""
    out: list[Segment] = []
    for segment in segments:
        if isinstance(segment, str) and out and isinstance(out[-1], str):
            out[-1] += segment
        elif segment != "":
            out.append(segment)
    return tuple(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
