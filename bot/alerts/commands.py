"""The alert commands: `/lucia alerts [silence|unsilence …]`, and the buttons of an alert
notice (which have no text form)."""

from __future__ import annotations

__all__ = [
    "MAX_SILENCE",
    "USAGE",
    "VERBS",
    "AcknowledgeNotice",
    "AlertCommand",
    "LiftSilence",
    "ListAlerts",
    "NoticeAction",
    "OpenIncidentFromNotice",
    "SilenceAlerts",
    "SilenceNotice",
]

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.command_text import clip, first_word, free_text
from bot.errors import CommandError
from bot.plain_text import plain_text
from bot.vocabulary import parse_duration

USAGE = {
    "alerts": "/lucia alerts",
    "silence": "/lucia alerts silence <A12|project> <duration: 30m, 2h, 1d> [reason]",
    "unsilence": "/lucia alerts unsilence <S3>",
}

MAX_SILENCE = timedelta(days=30)


@dataclass(frozen=True)
class ListAlerts:
    pass


@dataclass(frozen=True)
class SilenceAlerts:
    group_id: int | None  # one alert group (A12) ...
    project: str | None  # ... or every alert of a project
    duration: timedelta
    reason: str


@dataclass(frozen=True)
class LiftSilence:
    silence_id: int


@dataclass(frozen=True)
class NoticeAction:
    """A click on an alert notice's button (no text form)."""

    notice_id: int


@dataclass(frozen=True)
class AcknowledgeNotice(NoticeAction):
    pass


@dataclass(frozen=True)
class SilenceNotice(NoticeAction):
    duration: timedelta


@dataclass(frozen=True)
class OpenIncidentFromNotice(NoticeAction):
    pass


# Every command `AlertService` answers.
AlertCommand = (
    ListAlerts
    | SilenceAlerts
    | LiftSilence
    | AcknowledgeNotice
    | SilenceNotice
    | OpenIncidentFromNotice
)

_GROUP = re.compile(r"A(\d{1,12})", re.IGNORECASE)
_SILENCE = re.compile(r"S?(\d{1,12})", re.IGNORECASE)


def _parse_alerts(text: str) -> AlertCommand:
    sub, rest = first_word(text)
    match sub.lower():
        case "" | "list":
            return ListAlerts()
        case "silence":
            target, rest = first_word(rest)
            span, rest = first_word(rest)
            if not target or not span:
                raise CommandError("Silence what, and for how long?", USAGE["silence"])
            group = _GROUP.fullmatch(target)
            duration = _silence_duration(span)
            reason = free_text(rest, USAGE["silence"], "", required=False)
            if group:
                return SilenceAlerts(int(group.group(1)), None, duration, reason)
            return SilenceAlerts(None, plain_text(target).lower(), duration, reason)
        case "unsilence":
            match = _SILENCE.fullmatch(rest.strip())
            if match is None:
                raise CommandError(
                    "Which silence? `/lucia alerts` lists them (S3…).", USAGE["unsilence"]
                )
            return LiftSilence(int(match.group(1)))
        case _:
            raise CommandError(f"`alerts {clip(sub)}` isn't a command I know.", USAGE["alerts"])


def _silence_duration(text: str) -> timedelta:
    duration = parse_duration(text.lower(), units="mhd", max_digits=4)
    if duration is None:
        raise CommandError(f"`{clip(text)}` isn't a duration like 30m, 2h or 1d.", USAGE["silence"])
    if not timedelta(0) < duration <= MAX_SILENCE:
        raise CommandError("A silence lasts between a minute and 30 days.", USAGE["silence"])
    return duration


# The first words of `/lucia …` this package owns, each with the parser of what follows.
VERBS: Mapping[str, Callable[[str], AlertCommand]] = {
    "alerts": _parse_alerts,
    "alert": _parse_alerts,
}
