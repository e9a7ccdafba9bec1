"""What an incident is: its severity, its status and the events on its timeline."""

from __future__ import annotations

__all__ = ["EventKind", "Incident", "Status", "TimelineEvent"]

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.types import JSONValue, UserId
from bot.vocabulary import Severity


class Status(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"

    @property
    def is_open(self) -> bool:
        return self is not Status.RESOLVED


class EventKind(enum.StrEnum):
    DECLARED = "declared"
    CHANNEL_CREATED = "channel_created"
    CHANNEL_FAILED = "channel_failed"
    ACKNOWLEDGED = "acknowledged"
    STATUS_CHANGED = "status_changed"
    SEVERITY_CHANGED = "severity_changed"
    LEAD_CHANGED = "lead_changed"
    UPDATE = "update"
    NOTE = "note"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    PAGE_REQUESTED = "page_requested"  # roles to page, from the routing rule (paging acts on it)
    ESCALATION = "escalation"  # started, a step fired, stopped, exhausted
    PAGE = "page"  # one person paged, and what each channel made of it
    PLAYBOOK = "playbook"  # a playbook run's step: its state and what it proved
    PINNED = "pinned"  # a channel message kept (📌 or a pin), at the message's own time
    UNPINNED = "unpinned"  # its 📌/pin was taken away: history stays, this marks it
    FOLLOWUP = "followup"  # a follow-up action added or done
    ALERT = "alert"  # what the linked alert did since: repeats (throttled), resolved in Sentry
    POSTMORTEM = "postmortem"  # the postmortem was exported (the launch gate asks for it)
    STATUS_PAGE = "status_page"  # what was published to the public status page, by whom


@dataclass(frozen=True)
class Incident:
    number: int
    title: str
    severity: Severity
    status: Status
    opened_by: UserId
    created_at: datetime
    updated_at: datetime
    description: str = ""
    lead: UserId | None = None
    channel_id: str | None = None
    channel_name: str | None = None
    card_ts: str | None = None
    announcement_channel_id: str | None = None
    announcement_ts: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: UserId | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    summary: str = ""
    alert_group_id: int | None = None  # the alert group that opened it, if one did

    @property
    def key(self) -> str:
        return f"INC-{self.number}"


@dataclass(frozen=True)
class TimelineEvent:
    incident_number: int
    at: datetime
    kind: EventKind
    actor: UserId
    text: str
    data: Mapping[str, JSONValue] = field(default_factory=dict)
