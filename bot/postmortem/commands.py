"""The postmortem commands: `/lucia postmortem [#N]` and `followup add|list|done …`."""

from __future__ import annotations

__all__ = [
    "USAGE",
    "VERBS",
    "AddFollowUp",
    "ExportPostmortem",
    "FinishFollowUp",
    "ListFollowUps",
    "PostmortemCommand",
]

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.command_text import (
    MENTION,
    clip,
    first_word,
    free_text,
    incident_number,
    lone,
    no_more,
    take_ref,
)
from bot.errors import CommandError
from bot.types import UserId

USAGE = {
    "postmortem": "/lucia postmortem [#N]",
    "followup": ("/lucia followup add [#N] <text> [@owner] [--blocking] | list [#N] | done <F3>"),
}


@dataclass(frozen=True)
class ExportPostmortem:
    number: int | None


@dataclass(frozen=True)
class AddFollowUp:
    number: int | None
    text: str
    owner: UserId | None
    blocking: bool = False  # the launch gate is NO-GO until it is done


@dataclass(frozen=True)
class ListFollowUps:
    number: int | None


@dataclass(frozen=True)
class FinishFollowUp:
    followup_id: int


# Every command `PostmortemService` answers.
PostmortemCommand = ExportPostmortem | AddFollowUp | ListFollowUps | FinishFollowUp

_FOLLOWUP = re.compile(r"F?(\d{1,12})", re.IGNORECASE)


def _parse_postmortem(text: str) -> ExportPostmortem:
    number, rest = take_ref(text, USAGE["postmortem"], bare=True)
    no_more(rest, USAGE["postmortem"])
    return ExportPostmortem(number)


def _parse_followup(text: str) -> PostmortemCommand:
    form = USAGE["followup"]
    sub, rest = first_word(text)
    if incident_number(sub, form, bare=True) is not None:  # `followup INC-3`: its list
        sub, rest = "list", text
    match sub.lower():
        case "" | "list" | "ls":
            number, rest = take_ref(rest, form, bare=True)
            no_more(rest, form)
            return ListFollowUps(number)
        case "add":
            number, rest = take_ref(rest, form, bare=lone(rest))
            words = rest.split()
            blocking = "--blocking" in (w.lower() for w in words)
            words = [w for w in words if w.lower() != "--blocking"]
            owner = None
            if words and (mention := MENTION.fullmatch(words[-1])):
                owner, words = mention.group(1), words[:-1]
            rest = " ".join(words)
            text = free_text(rest, form, "What needs doing?")
            return AddFollowUp(number, text, owner, blocking)
        case "done":
            match = _FOLLOWUP.fullmatch(rest.strip())
            if match is None:
                raise CommandError("Which follow-up? (F3)", form)
            return FinishFollowUp(int(match.group(1)))
        case _:
            raise CommandError(f"`followup {clip(sub)}` isn't a command I know.", form)


# The first words of `/lucia …` this package owns, each with the parser of what follows.
VERBS: Mapping[str, Callable[[str], PostmortemCommand]] = {
    "postmortem": _parse_postmortem,
    "pm": _parse_postmortem,
    "followup": _parse_followup,
    "followups": _parse_followup,
    "follow-up": _parse_followup,
}
