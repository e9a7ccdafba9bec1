"""How paging writes on an incident's timeline: events by Lucia, with people and page
targets named the way every front shows them."""

from __future__ import annotations

__all__ = ["actor_ref", "lucia_event", "target_ref"]

from collections.abc import Mapping
from datetime import datetime

from bot.incidents.model import EventKind, TimelineEvent
from bot.paging.words import is_slack_user
from bot.text import Mention, Text, stored_text
from bot.types import JSONValue
from bot.vocabulary import ROLES, SYSTEM_ACTOR


def lucia_event(
    number: int, at: datetime, kind: EventKind, text: str, data: Mapping[str, JSONValue]
) -> TimelineEvent:
    return TimelineEvent(number, at, kind, SYSTEM_ACTOR, text, dict(data))


def actor_ref(actor: str) -> str:
    """An actor in a timeline event's text: a Slack user by id (each front shows them its
    own way), Lucia and shell users by name."""
    if actor == SYSTEM_ACTOR:
        return "Lucia"
    return stored_text(Text(Mention(actor))) if is_slack_user(actor) else actor


def target_ref(target: str) -> str:
    """Whom a page asked for, in a timeline event's text: the role, or the Slack user."""
    return target if target in ROLES else stored_text(Text(Mention(target)))
