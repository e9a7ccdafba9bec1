"""The launch gate's commands: `/lucia gate [phase]` and `gate history|test-page|trace|
sign|unsign|except|unexcept …`."""

from __future__ import annotations

__all__ = [
    "USAGE",
    "VERBS",
    "GateCommand",
    "RecordException",
    "SendTestPage",
    "ShowGate",
    "ShowGateHistory",
    "SignItem",
    "TraceAlerts",
    "UnsignItem",
    "WithdrawExceptions",
]

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.command_text import clip, first_word, free_text, no_more
from bot.errors import CommandError
from bot.vocabulary import ROLES, parse_duration

USAGE = {
    "gate": (
        "/lucia gate [phase] | history [phase] | test-page [role|all] | trace | "
        "sign <item> [--for 30d] <note> | unsign <item> | "
        "except <phase> <item,…> [--for 3d] <reason> | unexcept <phase>"
    ),
}


@dataclass(frozen=True)
class ShowGate:
    phase: str | None  # None: the last phase configured


@dataclass(frozen=True)
class ShowGateHistory:
    phase: str | None


@dataclass(frozen=True)
class SendTestPage:
    role: str | None  # None: every role


@dataclass(frozen=True)
class TraceAlerts:
    pass


@dataclass(frozen=True)
class SignItem:
    item: str
    note: str
    valid_for: timedelta | None  # None: the item's configured `for`


@dataclass(frozen=True)
class UnsignItem:
    item: str


@dataclass(frozen=True)
class RecordException:
    phase: str
    items: tuple[str, ...]
    reason: str
    valid_for: timedelta


@dataclass(frozen=True)
class WithdrawExceptions:
    phase: str


# Every command `GateService` answers.
GateCommand = (
    ShowGate
    | ShowGateHistory
    | SendTestPage
    | TraceAlerts
    | SignItem
    | UnsignItem
    | RecordException
    | WithdrawExceptions
)

EXCEPTION_DEFAULT = timedelta(days=3)
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_FOR = re.compile(r"--for\s+(\S+)\s*", re.IGNORECASE)


def _name(word: str, what: str) -> str:
    if not _NAME.fullmatch(word.lower()):
        raise CommandError(f"Which {what}? `{clip(word)}` isn't a name I know.", USAGE["gate"])
    return word.lower()


def _valid_for(text: str) -> tuple[timedelta | None, str]:
    """`--for 30d` anywhere in the text, and the text without it."""
    match = _FOR.search(text)
    if match is None:
        return None, text
    duration = parse_duration(match.group(1), units="mhd")
    if duration is None or not duration:
        raise CommandError(f"`--for {clip(match.group(1))}` isn't like 12h or 30d.", USAGE["gate"])
    return duration, (text[: match.start()] + text[match.end() :]).strip()


def _parse_gate(text: str) -> GateCommand:
    form = USAGE["gate"]
    sub, rest = first_word(text)
    match sub.lower():
        case "":
            return ShowGate(None)
        case "history":
            phase, rest = first_word(rest)
            no_more(rest, form)
            return ShowGateHistory(_name(phase, "phase") if phase else None)
        case "test-page" | "testpage":
            role, rest = first_word(rest)
            no_more(rest, form)
            if role.lower() in ("", "all"):
                return SendTestPage(None)
            if role.lower() not in ROLES:
                raise CommandError(f"`{clip(role)}` isn't a role: {', '.join(ROLES)} or all.", form)
            return SendTestPage(role.lower())
        case "trace":
            no_more(rest, form)
            return TraceAlerts()
        case "sign":
            valid_for, rest = _valid_for(rest)
            item, rest = first_word(rest)
            if not item:
                raise CommandError("Which item? (`/lucia gate` lists them)", form)
            return SignItem(
                _name(item, "item"), free_text(rest, form, "Say what you checked."), valid_for
            )
        case "unsign":
            item, rest = first_word(rest)
            no_more(rest, form)
            if not item:
                raise CommandError("Which item?", form)
            return UnsignItem(_name(item, "item"))
        case "except" | "exception":
            valid_for, rest = _valid_for(rest)
            phase, rest = first_word(rest)
            items, rest = first_word(rest)
            if not phase or not items:
                raise CommandError("Name the phase and the items it goes ahead without.", form)
            names = tuple(_name(i, "item") for i in items.split(",") if i)
            return RecordException(
                _name(phase, "phase"),
                names,
                free_text(rest, form, "Say why it may go ahead without them."),
                valid_for or EXCEPTION_DEFAULT,
            )
        case "unexcept":
            phase, rest = first_word(rest)
            no_more(rest, form)
            if not phase:
                raise CommandError("Which phase?", form)
            return WithdrawExceptions(_name(phase, "phase"))
        case word:
            no_more(rest, form)
            return ShowGate(_name(word, "phase"))


# The first words of `/lucia …` this package owns, each with the parser of what follows.
VERBS: Mapping[str, Callable[[str], GateCommand]] = {"gate": _parse_gate}
