"""The status page's commands: `/lucia status` and `status publish|update|resolve|
maintenance|confirm|cancel …`. Every change is a draft first, shown with Publish and
Cancel: nothing reaches the page until someone confirms it."""

from __future__ import annotations

__all__ = [
    "USAGE",
    "VERBS",
    "DecideDraft",
    "DraftMaintenance",
    "DraftPublish",
    "DraftResolve",
    "DraftUpdate",
    "ShowStatus",
    "StatusCommand",
]

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.command_text import clip, first_word, free_text, no_more, take_ref
from bot.errors import CommandError
from bot.status.model import ComponentState, Phase
from bot.vocabulary import parse_duration

USAGE = {
    "statuspage": (
        "/lucia status | publish [#N] <component>=<state>… <public text> | "
        "update [#N] [investigating|identified|monitoring] [<component>=<state>…] <text> | "
        "resolve [#N] <text> | maintenance <component>… <start> <duration> <text>"
    ),
}
_STATES = ", ".join(s.value for s in ComponentState)


@dataclass(frozen=True)
class ShowStatus:
    pass


@dataclass(frozen=True)
class DraftPublish:
    number: int | None
    components: Mapping[str, ComponentState]
    text: str


@dataclass(frozen=True)
class DraftUpdate:
    number: int | None
    phase: Phase | None
    components: Mapping[str, ComponentState] = field(default_factory=dict)
    text: str = ""


@dataclass(frozen=True)
class DraftResolve:
    number: int | None
    text: str


@dataclass(frozen=True)
class DraftMaintenance:
    components: tuple[str, ...]
    starts_at: datetime | None  # None: now
    duration: timedelta
    text: str


@dataclass(frozen=True)
class DecideDraft:
    """The preview's Publish or Cancel button (or `status confirm|cancel D3`)."""

    draft_id: int
    publish: bool


StatusCommand = (
    ShowStatus | DraftPublish | DraftUpdate | DraftResolve | DraftMaintenance | DecideDraft
)

_PAIR = re.compile(r"([a-z0-9][a-z0-9_-]{0,39})=(\S+)", re.IGNORECASE)
_DRAFT = re.compile(r"D?(\d{1,12})", re.IGNORECASE)
_START = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})Z?", re.IGNORECASE)


def _pairs(words: list[str], form: str) -> tuple[dict[str, ComponentState], list[str]]:
    """Leading `component=state` words, and the words after them."""
    found: dict[str, ComponentState] = {}
    while words and (match := _PAIR.fullmatch(words[0])):
        state = ComponentState.parse(match.group(2))
        if state is None:
            raise CommandError(f"`{clip(match.group(2))}` isn't a state: use {_STATES}.", form)
        found[match.group(1).lower()] = state
        words = words[1:]
    return found, words


def _parse_status(text: str) -> StatusCommand:
    form = USAGE["statuspage"]
    sub, rest = first_word(text)
    match sub.lower():
        case "" | "show":
            no_more(rest, form)
            return ShowStatus()
        case "publish":
            number, rest = take_ref(rest, form, bare=False)
            components, words = _pairs(rest.split(), form)
            if not components:
                raise CommandError(
                    "Say which components are affected and how: engine=major_outage.", form
                )
            return DraftPublish(
                number, components, free_text(" ".join(words), form, "What should the page say?")
            )
        case "update":
            number, rest = take_ref(rest, form, bare=False)
            words = rest.split()
            phase = None
            if words and words[0].lower() in ("investigating", "identified", "monitoring"):
                phase, words = Phase(words[0].lower()), words[1:]
            components, words = _pairs(words, form)
            body = free_text(" ".join(words), form, "What should the update say?")
            return DraftUpdate(number, phase, components, body)
        case "resolve":
            number, rest = take_ref(rest, form, bare=False)
            return DraftResolve(number, free_text(rest, form, "Say what was fixed, for the page."))
        case "maintenance":
            return _parse_maintenance(rest, form)
        case "confirm" | "publish-draft" | "cancel":
            match = _DRAFT.fullmatch(rest.strip())
            if match is None:
                raise CommandError("Which draft? (D3)", form)
            return DecideDraft(int(match.group(1)), sub.lower() != "cancel")
        case _:
            raise CommandError(f"`status {clip(sub)}` isn't a command I know.", form)


def _parse_maintenance(text: str, form: str) -> DraftMaintenance:
    """`engine admin 2026-12-05T02:00 2h Database upgrade` or `engine now 30m …`."""
    words = text.split()
    components: list[str] = []
    while words and not (words[0].lower() == "now" or _START.fullmatch(words[0])):
        if len(words) > 1 and _START.fullmatch(" ".join(words[:2])):
            break
        components.append(words.pop(0).lower())
    if not components:
        raise CommandError("Which components? (their ids, as `/lucia status` lists them)", form)
    if not words:
        raise CommandError("When does it start? (2026-12-05T02:00 UTC, or now)", form)
    starts_at: datetime | None = None
    if words[0].lower() == "now":
        words.pop(0)
    else:
        joined = words[0] if _START.fullmatch(words[0]) else " ".join(words[:2])
        match = _START.fullmatch(joined)
        assert match is not None
        del words[: len(joined.split())]
        try:
            starts_at = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}").replace(
                tzinfo=UTC
            )
        except ValueError:
            raise CommandError(f"`{clip(joined)}` isn't a date and time.", form) from None
    duration = parse_duration(words[0], units="mhd") if words else None
    if duration is None or not duration:
        raise CommandError("How long? (30m, 2h, 1d)", form)
    text_words = " ".join(words[1:])
    return DraftMaintenance(
        tuple(components),
        starts_at,
        duration,
        free_text(text_words, form, "What should the page say about it?"),
    )


VERBS: Mapping[str, Callable[[str], StatusCommand]] = {"status": _parse_status}
