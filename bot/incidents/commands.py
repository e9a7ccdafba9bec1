"""The incident commands: `help` and `/lucia incident …`, text in, a typed command out, or
a `CommandError` that says what was wrong and the right form.

Parsing is pure and front-agnostic; `bot.grammar` hands this package the text after the
first word it owns (`VERBS`).
"""

from __future__ import annotations

__all__ = [
    "MAX_TITLE",
    "USAGE",
    "VERBS",
    "Acknowledge",
    "AddNote",
    "Help",
    "IncidentCommand",
    "IncidentsCommand",
    "ListIncidents",
    "Mitigate",
    "OpenIncident",
    "PostUpdate",
    "Reopen",
    "Resolve",
    "SetLead",
    "SetSeverity",
    "SetStatus",
    "ShowIncident",
]

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.command_text import (
    MENTION,
    REF_NUMBER,
    clip,
    first_word,
    free_text,
    lone,
    no_more,
    ref_only,
    take_ref,
    trailing_ref,
)
from bot.errors import CommandError
from bot.incidents.lifecycle import WORKING_STATUSES
from bot.incidents.model import Status
from bot.plain_text import plain_text
from bot.types import UserId
from bot.vocabulary import Severity

MAX_TITLE = 150  # Slack's header block limit: the title must fit the card as typed

USAGE = {
    "help": "/lucia help",
    "open": "/lucia incident open [sev1-4] <title>   (no title: a form)",
    "list": "/lucia incident list [--all]",
    "show": "/lucia incident show [#N]",
    "timeline": "/lucia incident timeline [#N]",
    "ack": "/lucia incident ack [#N]",
    "update": "/lucia incident update [#N] <text>",
    "status": "/lucia incident status [#N] investigating|identified|monitoring <text>",
    "sev": "/lucia incident sev [#N] <1-4>",
    "lead": "/lucia incident lead [#N] @user",
    "note": "/lucia incident note [#N] <text>",
    "mitigated": "/lucia incident mitigated [#N]",
    "resolve": "/lucia incident resolve [#N] [summary]",
    "reopen": "/lucia incident reopen [#N]",
}


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class OpenIncident:
    title: str | None  # None: ask with a form
    severity: Severity | None
    description: str = ""
    responders: tuple[UserId, ...] = ()  # invited to the channel with the opener


@dataclass(frozen=True)
class ListIncidents:
    include_closed: bool


@dataclass(frozen=True)
class IncidentCommand:
    number: int | None  # None: the incident of the channel the command was typed in


@dataclass(frozen=True)
class ShowIncident(IncidentCommand):
    with_timeline: bool


@dataclass(frozen=True)
class Acknowledge(IncidentCommand):
    pass


@dataclass(frozen=True)
class PostUpdate(IncidentCommand):
    text: str


@dataclass(frozen=True)
class SetStatus(IncidentCommand):
    status: Status
    text: str


@dataclass(frozen=True)
class SetSeverity(IncidentCommand):
    severity: Severity


@dataclass(frozen=True)
class SetLead(IncidentCommand):
    lead: UserId


@dataclass(frozen=True)
class AddNote(IncidentCommand):
    text: str


@dataclass(frozen=True)
class Mitigate(IncidentCommand):
    pass


@dataclass(frozen=True)
class Resolve(IncidentCommand):
    summary: str


@dataclass(frozen=True)
class Reopen(IncidentCommand):
    pass


# Every command `IncidentService` answers.
IncidentsCommand = (
    Help
    | OpenIncident
    | ListIncidents
    | ShowIncident
    | Acknowledge
    | PostUpdate
    | SetStatus
    | SetSeverity
    | SetLead
    | AddNote
    | Mitigate
    | Resolve
    | Reopen
)

# "sev2", "SEV-9", "sev": meant as a severity (and checked); "severe" starts a title.
_SEVERITY_TOKEN = re.compile(r"sev[-_]?\d*:?", re.IGNORECASE)


def _help(_text: str) -> Help:
    return Help()


def _parse_incident(text: str) -> IncidentsCommand:
    sub, rest = first_word(text)
    match sub.lower():
        case "" | "help":
            return Help()
        case "open" | "declare" | "new":
            return _parse_open(rest)
        case "list" | "ls":
            return _parse_list(rest)
        case "show" | "timeline":
            number, rest = take_ref(rest, USAGE[sub.lower()], bare=True)
            no_more(rest, USAGE[sub.lower()])
            return ShowIncident(number, with_timeline=sub.lower() == "timeline")
        case "ack" | "acknowledge":
            number = ref_only(rest, USAGE["ack"])
            return Acknowledge(number)
        case "update":
            number, rest = take_ref(rest, USAGE["update"], bare=lone(rest))
            return PostUpdate(number, free_text(rest, USAGE["update"], "What's the update?"))
        case "status":
            return _parse_status(rest)
        case "sev" | "severity":
            return _parse_severity(rest)
        case "lead":
            return _parse_lead(rest)
        case "note":
            number, rest = take_ref(rest, USAGE["note"], bare=lone(rest))
            return AddNote(number, free_text(rest, USAGE["note"], "The note is empty."))
        case "mitigated" | "mitigate":
            return Mitigate(ref_only(rest, USAGE["mitigated"]))
        case "resolve" | "resolved":
            number, rest = take_ref(rest, USAGE["resolve"], bare=lone(rest))
            return Resolve(number, free_text(rest, USAGE["resolve"], "", required=False))
        case "reopen":
            return Reopen(ref_only(rest, USAGE["reopen"]))
        case _:
            raise CommandError(
                f"`incident {clip(sub)}` isn't a command I know. "
                "Try open, list, show, timeline, ack, update, status, sev, lead, note, "
                "mitigated, resolve or reopen.",
                "/lucia help",
            )


def _parse_open(text: str) -> OpenIncident:
    first, rest = first_word(text)
    severity = None
    if _SEVERITY_TOKEN.fullmatch(first):
        severity = Severity.parse(first.rstrip(":").replace("-", "").replace("_", ""))
        if severity is None:
            raise CommandError(
                f"`{clip(first)}` isn't a severity: use sev1 (worst) to sev4.", USAGE["open"]
            )
        text = rest
    if not text.strip():
        return OpenIncident(title=None, severity=severity)  # the front asks with a form
    title = " ".join(plain_text(text).split())
    if len(title) > MAX_TITLE:
        raise CommandError(
            f"That title is {len(title):,} characters; keep it to {MAX_TITLE} "
            "and put the details in `/lucia incident note`.",
            USAGE["open"],
        )
    return OpenIncident(title=title, severity=severity)


def _parse_list(text: str) -> ListIncidents:
    words = text.split()
    if words in ([], ["--all"], ["all"]):
        return ListIncidents(include_closed=bool(words))
    raise CommandError(f"`{clip(text)}` isn't an option of list.", USAGE["list"])


def _parse_status(text: str) -> SetStatus:
    number, rest = take_ref(text, USAGE["status"], bare=True)  # a status is never a number
    word, rest = first_word(rest)
    try:
        status = Status(word.lower())
    except ValueError:
        status = None
    if status not in WORKING_STATUSES:
        allowed = "|".join(s.value for s in WORKING_STATUSES)
        problem = "Which status?" if not word else f"`{clip(word)}` isn't a status: use {allowed}."
        if status is Status.MITIGATED:
            problem = "Use `/lucia incident mitigated` to mark it mitigated."
        elif status is Status.RESOLVED:
            problem = "Use `/lucia incident resolve [summary]` to resolve it."
        raise CommandError(problem, USAGE["status"])
    assert status is not None
    return SetStatus(number, status, free_text(rest, USAGE["status"], "", required=False))


def _parse_severity(text: str) -> SetSeverity:
    number, rest = take_ref(text, USAGE["sev"], bare=False)  # `sev 2`: the severity
    word, rest = first_word(rest)
    severity = Severity.parse(word)
    if severity is None:
        problem = "Which severity?" if not word else f"`{clip(word)}` isn't a severity."
        raise CommandError(f"{problem} Use 1 (worst) to 4.", USAGE["sev"])
    if number is None and REF_NUMBER.fullmatch(rest.strip()):  # `sev 2 3`
        raise CommandError(_two_numbers(word, rest.strip().rstrip(":,")), USAGE["sev"])
    if rest.strip():
        number = trailing_ref(rest, USAGE["sev"], number, bare=False)
    return SetSeverity(number, severity)


def _two_numbers(severity: str, other: str) -> str:
    severity, other = clip(severity), clip(other)
    if not severity.isdigit():
        return (
            f"`{other}` after the severity isn't an incident: write it as #{other} or INC-{other}."
        )
    return (
        f"Which is the incident, {severity} or {other}? A bare number after sev is the "
        f"severity: name the incident as #N or INC-N, `sev INC-{other} {severity}` "
        f"or `sev INC-{severity} {other}`."
    )


def _parse_lead(text: str) -> SetLead:
    number, rest = take_ref(text, USAGE["lead"], bare=True)  # a lead is a @mention
    word, rest = first_word(rest)
    if not word:
        raise CommandError("Who should lead?", USAGE["lead"])
    mention = MENTION.fullmatch(word)
    if mention is None:
        raise CommandError(
            f"I couldn't find a user for `{clip(word)}`. "
            "Mention them so Slack completes the name (type @ and pick them).",
            USAGE["lead"],
        )
    if rest.strip():
        number = trailing_ref(rest, USAGE["lead"], number, bare=True)
    return SetLead(number, mention.group(1))


# The first words of `/lucia …` this package owns, each with the parser of what follows.
VERBS: Mapping[str, Callable[[str], IncidentsCommand]] = {
    "": _help,
    "help": _help,
    "incident": _parse_incident,
    "inc": _parse_incident,
    "i": _parse_incident,
}
