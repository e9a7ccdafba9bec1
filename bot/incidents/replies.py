"""What a command answers, before any front renders it: structure, never markup. Words that
name people or channels, or stand out, are `bot.text.Text`; a plain `str` in `Noted` and
`PlaybookPlan` is text as stored (people by id as `<@U…>`), which each front shows its way."""

from __future__ import annotations

__all__ = [
    "AskForDetails",
    "Detail",
    "Done",
    "ItemList",
    "Listing",
    "Noted",
    "PlaybookPlan",
    "Reply",
    "ShowHelp",
]

from collections.abc import Sequence
from dataclasses import dataclass

from bot.incidents.model import Incident, TimelineEvent
from bot.text import Text
from bot.vocabulary import Severity


@dataclass(frozen=True)
class Done:
    """A change was stored. `warnings` say what the chat side couldn't do afterwards."""

    text: Text
    incident: Incident
    warnings: tuple[str, ...] = ()
    event: TimelineEvent | None = None  # the step taken, for fronts that render it richly


@dataclass(frozen=True)
class Listing:
    incidents: Sequence[Incident]  # newest first
    include_closed: bool
    more: bool = False  # older ones exist beyond those listed


@dataclass(frozen=True)
class Detail:
    incident: Incident
    timeline: Sequence[TimelineEvent] | None  # None: the card only


@dataclass(frozen=True)
class ShowHelp:
    pass


@dataclass(frozen=True)
class AskForDetails:
    """`incident open` without a title: the front asks with a form."""

    severity: Severity | None


@dataclass(frozen=True)
class Noted:
    """A change that isn't an incident's (a silence, say), in one plain sentence.
    `warning`: it was stored, but what it was for didn't happen (a page that reaches nobody)."""

    text: str | Text
    warning: bool = False


@dataclass(frozen=True)
class ItemList:
    """A heading and its items (the launch-gate table, the playbooks): shown, nothing changed."""

    title: Text
    items: tuple[Text, ...]
    notes: tuple[Text, ...] = ()  # lines after the items, not items themselves


@dataclass(frozen=True)
class PlaybookPlan:
    """A run shown before it changes anything: what it will do, and what may be clicked."""

    run_id: int
    text: str | Text
    choices: tuple[str, ...] = ()  # "confirm", "cancel", "approve"


Reply = Done | Listing | Detail | ShowHelp | AskForDetails | Noted | ItemList | PlaybookPlan
