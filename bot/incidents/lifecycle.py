"""The incident state machine: every allowed step, and the timeline event it writes.

Each step takes the stored incident and returns a `Change`: the new incident and its event,
written together by the caller in one transaction. A step that isn't allowed raises
`IllegalTransition` with a sentence the person can act on.

    investigating ⇄ identified ⇄ monitoring      (any of these three to any other)
          │               │             │
          └──────► mitigated ◄──────────┘          (and back, if it regresses)
                      │
    any open status ──┴──► resolved ──reopen──► investigating
"""

from __future__ import annotations

__all__ = [
    "WORKING_STATUSES",
    "Change",
    "acknowledge",
    "add_note",
    "declare",
    "mitigate",
    "post_update",
    "reopen",
    "resolve",
    "set_lead",
    "set_severity",
    "set_status",
]

from dataclasses import dataclass, replace
from datetime import datetime

from bot.errors import IllegalTransition
from bot.incidents.model import EventKind, Incident, Status, TimelineEvent
from bot.text import Mention, Text, stored_text
from bot.types import UserId
from bot.vocabulary import Severity

# Statuses `incident status …` may set; mitigated and resolved have their own commands.
WORKING_STATUSES = (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING)


@dataclass(frozen=True)
class Change:
    incident: Incident
    event: TimelineEvent


def _event(
    incident: Incident, kind: EventKind, actor: UserId, at: datetime, text: str, **data: str
) -> TimelineEvent:
    return TimelineEvent(incident.number, at, kind, actor, text, dict(data))


def _require_open(incident: Incident, doing: str) -> None:
    if incident.status is Status.RESOLVED:
        raise IllegalTransition(
            f"{incident.key} is resolved, so it can't be {doing}. "
            f"Reopen it first: `/lucia incident reopen #{incident.number}`."
        )


def declare(
    *,
    number: int,
    title: str,
    severity: Severity,
    description: str,
    actor: UserId,
    at: datetime,
    lead: UserId | None,
    alert_group_id: int | None = None,
) -> Change:
    incident = Incident(
        number=number,
        title=title,
        severity=severity,
        status=Status.INVESTIGATING,
        opened_by=actor,
        description=description,
        created_at=at,
        updated_at=at,
        alert_group_id=alert_group_id,
        lead=lead,
    )
    text = f"Declared {severity.label}: {title}"
    return Change(
        incident,
        _event(incident, EventKind.DECLARED, actor, at, text, severity=severity.value, title=title),
    )


def acknowledge(incident: Incident, actor: UserId, at: datetime) -> Change:
    _require_open(incident, "acknowledged")
    if incident.acknowledged_at is not None:
        raise IllegalTransition(
            Text(
                f"{incident.key} was already acknowledged by ",
                Mention(incident.acknowledged_by) if incident.acknowledged_by else "someone",
                f" at {incident.acknowledged_at:%Y-%m-%d %H:%M} UTC.",
            )
        )
    changed = replace(
        incident,
        acknowledged_at=at,
        acknowledged_by=actor,
        lead=incident.lead or actor,
        updated_at=at,
    )
    return Change(changed, _event(changed, EventKind.ACKNOWLEDGED, actor, at, "Acknowledged"))


def set_status(
    incident: Incident, status: Status, text: str, actor: UserId, at: datetime
) -> Change:
    _require_open(incident, f"set to {status.value}")
    if status not in WORKING_STATUSES:
        raise IllegalTransition(
            f"Status can be set to {', '.join(s.value for s in WORKING_STATUSES)}; "
            "use `incident mitigated` or `incident resolve` for the others."
        )
    if incident.status is status:
        raise IllegalTransition(
            f"{incident.key} is already {status.value}. To post progress, use "
            f"`/lucia incident update #{incident.number} <text>`."
        )
    # Back from mitigated: the mitigation didn't hold, so it no longer counts.
    mitigated_at = None if incident.status is Status.MITIGATED else incident.mitigated_at
    changed = replace(incident, status=status, mitigated_at=mitigated_at, updated_at=at)
    line = f"Status {incident.status.value} → {status.value}" + (f": {text}" if text else "")
    return Change(
        changed,
        _event(
            changed,
            EventKind.STATUS_CHANGED,
            actor,
            at,
            line,
            previous=incident.status.value,
            status=status.value,
        ),
    )


def set_severity(incident: Incident, severity: Severity, actor: UserId, at: datetime) -> Change:
    _require_open(incident, "re-graded")
    if incident.severity is severity:
        raise IllegalTransition(f"{incident.key} is already {severity.label}.")
    changed = replace(incident, severity=severity, updated_at=at)
    line = f"Severity {incident.severity.label} → {severity.label}"
    return Change(
        changed,
        _event(
            changed,
            EventKind.SEVERITY_CHANGED,
            actor,
            at,
            line,
            previous=incident.severity.value,
            severity=severity.value,
        ),
    )


def set_lead(incident: Incident, lead: UserId, actor: UserId, at: datetime) -> Change:
    _require_open(incident, "handed over")
    if incident.lead == lead:
        raise IllegalTransition(Text(Mention(lead), f" is already the lead of {incident.key}."))
    changed = replace(incident, lead=lead, updated_at=at)
    return Change(
        changed,
        _event(
            changed,
            EventKind.LEAD_CHANGED,
            actor,
            at,
            stored_text(Text("Lead is now ", Mention(lead))),
            lead=lead,
            previous=incident.lead or "",
        ),
    )


def post_update(incident: Incident, text: str, actor: UserId, at: datetime) -> Change:
    _require_open(incident, "updated")
    changed = replace(incident, updated_at=at)
    return Change(changed, _event(changed, EventKind.UPDATE, actor, at, text))


def add_note(incident: Incident, text: str, actor: UserId, at: datetime) -> Change:
    # Notes are allowed after resolution: they are how people add what they learn later.
    return Change(incident, _event(incident, EventKind.NOTE, actor, at, text))


def mitigate(incident: Incident, actor: UserId, at: datetime) -> Change:
    _require_open(incident, "mitigated")
    if incident.status is Status.MITIGATED:
        raise IllegalTransition(f"{incident.key} is already mitigated.")
    changed = replace(incident, status=Status.MITIGATED, mitigated_at=at, updated_at=at)
    return Change(
        changed,
        _event(
            changed, EventKind.MITIGATED, actor, at, "Mitigated", previous=incident.status.value
        ),
    )


def resolve(incident: Incident, summary: str, actor: UserId, at: datetime) -> Change:
    if incident.status is Status.RESOLVED:
        raise IllegalTransition(
            f"{incident.key} is already resolved (at {incident.resolved_at:%Y-%m-%d %H:%M} UTC)."
            if incident.resolved_at
            else f"{incident.key} is already resolved."
        )
    changed = replace(
        incident,
        status=Status.RESOLVED,
        resolved_at=at,
        summary=summary or incident.summary,
        updated_at=at,
    )
    line = "Resolved" + (f": {summary}" if summary else "")
    return Change(
        changed,
        _event(changed, EventKind.RESOLVED, actor, at, line, previous=incident.status.value),
    )


def reopen(incident: Incident, actor: UserId, at: datetime) -> Change:
    if incident.status is not Status.RESOLVED:
        raise IllegalTransition(f"{incident.key} is still open ({incident.status.value}).")
    # A reopened incident is live again: it needs a fresh acknowledgement, and the old
    # resolution summary no longer describes it (both stay in the timeline).
    changed = replace(
        incident,
        status=Status.INVESTIGATING,
        resolved_at=None,
        mitigated_at=None,
        acknowledged_at=None,
        acknowledged_by=None,
        summary="",
        updated_at=at,
    )
    return Change(changed, _event(changed, EventKind.REOPENED, actor, at, "Reopened"))
