"""A timeline event as one line: posted in the incident channel and listed by `show`."""

from __future__ import annotations

__all__ = ["event_body", "event_line"]

from bot.incidents.model import EventKind, TimelineEvent
from bot.slack.views.mrkdwn import date, escape, mentions_kept, who


def event_line(event: TimelineEvent) -> str:
    return f"{date(event.at, '{time}')} {who(event.actor)} {event_body(event)}"


def event_body(event: TimelineEvent, *, after_actor: bool = True) -> str:
    """What happened, for "<actor> …" (after_actor) or on its own, as a sentence."""
    text = escape(event.text)
    if event.kind in (EventKind.ESCALATION, EventKind.PAGE):  # our own text: people by mention
        text = mentions_kept(text)
    match event.kind:
        case EventKind.UPDATE:
            body = f"posted an update: {text}"
        case EventKind.NOTE:
            body = f"noted: {text}"
        case EventKind.LEAD_CHANGED:
            body = f"made {who(str(event.data.get('lead', '')))} the lead"
        case _:  # a sentence after the actor: its first word lower-case, but never an id (R2)
            body = text[0].lower() + text[1:] if text[1:2].islower() else text or event.kind.value
    return body if after_actor else body[0].upper() + body[1:]
