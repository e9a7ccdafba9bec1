"""An escalation's steps as pure functions, after Grafana OnCall's escalation snapshot:
the escalation as stored, what the store holds for it and the time go in; one
`StepResult` comes out (the escalation to store, the pages to write, the timeline event).

`escalations.py` reads what a step needs, calls it and applies its result, all in one
transaction. Nothing here reads a clock, waits or touches the store.
"""

from __future__ import annotations

__all__ = ["Roster", "StepResult", "due_roles", "fire", "restart", "start", "stop"]

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.config import EscalationPolicy
from bot.durations import spoken_duration
from bot.incidents.model import EventKind, Incident, TimelineEvent
from bot.paging.model import Escalation, EscalationStatus, build_chain, describe_chain, new_page
from bot.paging.ports import Contact, NewPage, Unstarted
from bot.paging.timeline import actor_ref, lucia_event
from bot.types import JSONValue
from bot.vocabulary import SYSTEM_ACTOR

_ACTIVE, _STOPPED = EscalationStatus.ACTIVE, EscalationStatus.STOPPED
_EXHAUSTED, _NONE = EscalationStatus.EXHAUSTED, EscalationStatus.NONE


@dataclass(frozen=True)
class StepResult:
    """What one step did: stored together, then the event is shown in the channel."""

    escalation: Escalation  # as it is to be stored: status, next step, next due time
    event: TimelineEvent | None  # None: nothing to say (an incident with nothing to page)
    pages: tuple[NewPage, ...] = ()  # to write, each due at its own time
    cancel_pages: bool = False  # the incident's pages still pending are cancelled


@dataclass(frozen=True)
class Roster:
    """What the store holds for the roles of the step that is due."""

    holders: Mapping[str, Contact | None]  # role -> whoever holds it (None: nobody)
    # `Contact.person` -> the latest escalation page planned for them within the throttle
    last_paged: Mapping[str, datetime] = field(default_factory=dict)


def start(unstarted: Unstarted, policy: EscalationPolicy | None, now: datetime) -> StepResult:
    """An incident paging hasn't seen: its chain copied on, the first step due now —
    or nothing to do, when it pages nobody or was answered already."""
    incident = unstarted.incident
    chain = build_chain(policy, unstarted.requested_roles)
    if not chain.steps or incident.acknowledged_at or incident.resolved_at:
        return StepResult(Escalation(incident.number, chain, _NONE, 0, 0, None, now), None)
    text = f"Escalation started: {describe_chain(chain)}"
    return StepResult(
        Escalation(incident.number, chain, _ACTIVE, 0, 0, now, now),
        _event(incident.number, now, text, {"chain": chain.to_json()}),
    )


def restart(
    escalation: Escalation, incident: Incident, policy: EscalationPolicy | None, now: datetime
) -> StepResult:
    """A reopened incident needs a fresh acknowledgement, and one raised to a severity
    that pages needs paging: the chain starts again, from the severity's policy now."""
    chain = build_chain(policy, ()) if policy else escalation.chain
    if not chain.steps:
        return StepResult(replace(escalation, status=_NONE, started_at=now), None)
    why = "now " + incident.severity.label if escalation.status is _NONE else "reopened"
    text = f"Escalation started again ({why}): {describe_chain(chain)}"
    return StepResult(
        Escalation(incident.number, chain, _ACTIVE, 0, 0, now, now),
        _event(incident.number, now, text, {"chain": chain.to_json()}),
    )


def due_roles(escalation: Escalation) -> tuple[str, ...]:
    """The roles the due step pages, for its `Roster`; none once every round has run."""
    if escalation.round > escalation.chain.repeat:
        return ()
    return escalation.chain.steps[escalation.step].roles


def fire(
    escalation: Escalation,
    incident: Incident,
    roster: Roster,
    throttle: timedelta,
    now: datetime,
) -> StepResult:
    """The due step: a page to whoever holds each of its roles, and the next step due
    after its wait; after the last round, `exhausted`."""
    chain = escalation.chain
    if escalation.round > chain.repeat:
        rounds = chain.repeat + 1
        text = (
            f"Escalation exhausted: nobody acknowledged after {rounds} "
            f"round{'s' if rounds > 1 else ''}. Page someone with `/lucia page`."
        )
        return StepResult(
            replace(escalation, status=_EXHAUSTED, due_at=None, stopped_at=now),
            _event(incident.number, now, text, {"exhausted": True}),
        )
    step = chain.steps[escalation.step]
    paged: list[str] = []
    skipped: list[str] = []
    pages: list[NewPage] = []
    last_paged = dict(roster.last_paged)
    for role in step.roles:
        contact = roster.holders.get(role)
        if contact is None:
            skipped.append(f"nobody holds {role}")
            continue
        page = new_page(incident, role, contact, "", SYSTEM_ACTOR, now)
        last = last_paged.get(page.person)
        if last is not None:  # paged moments ago: this page waits, it isn't dropped
            page = replace(page, due_at=last + throttle)
            skipped.append(
                f"{contact.name} ({role}) was paged at {last:%H:%M:%S}; "
                f"this page waits until {last + throttle:%H:%M:%S} UTC"
            )
        else:
            paged.append(f"{contact.name} ({role})")
        last_paged[page.person] = page.due_at  # another of their roles waits for this one
        pages.append(page)
    position = f"step {escalation.step + 1}/{len(chain.steps)}"
    if chain.repeat:
        position += f", round {escalation.round + 1}/{chain.repeat + 1}"
    text = f"Escalation {position}: paging {', '.join(paged) or 'nobody now'}"
    if skipped:
        text += f" ({'; '.join(skipped)})"
    next_step, next_round = escalation.step + 1, escalation.round
    if next_step == len(chain.steps):
        next_step, next_round = 0, next_round + 1
    # A step that reached nobody (every role empty) doesn't hold the chain up.
    wait = step.wait if pages else timedelta(0)
    data: dict[str, JSONValue] = {
        "step": escalation.step + 1,
        "round": escalation.round + 1,
        "roles": ",".join(step.roles),
    }
    return StepResult(
        replace(escalation, step=next_step, round=next_round, due_at=now + wait),
        _event(incident.number, now, text, data),
        tuple(pages),
    )


def stop(escalation: Escalation, incident: Incident, now: datetime) -> StepResult:
    """An incident acknowledged or resolved: the chain stops, its pending pages with it."""
    if incident.acknowledged_at is not None:
        waited = incident.acknowledged_at - incident.created_at
        who = actor_ref(incident.acknowledged_by or "")
        text = (
            f"Escalation stopped: {who} acknowledged "
            f"{spoken_duration(waited, padded=True)} after the incident opened"
        )
        data: dict[str, JSONValue] = {"time_to_acknowledge_s": int(waited.total_seconds())}
    else:
        text, data = "Escalation stopped: the incident was resolved", {}
    return StepResult(
        replace(escalation, status=_STOPPED, due_at=None, stopped_at=now),
        _event(incident.number, now, text, data),
        cancel_pages=True,
    )


def _event(number: int, at: datetime, text: str, data: Mapping[str, JSONValue]) -> TimelineEvent:
    return lucia_event(number, at, EventKind.ESCALATION, text, data)
