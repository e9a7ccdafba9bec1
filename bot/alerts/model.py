"""What an alert is once a source's payload has been read."""

from __future__ import annotations

__all__ = ["AlertGroup", "AlertSignal", "Delivery", "GroupStatus", "Outcome"]

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Delivery:
    """A webhook exactly as received and kept, before anyone reads it."""

    id: int
    source: str  # "sentry" or "sentry-legacy"
    kind: str  # Sentry-Hook-Resource, e.g. "event_alert"
    body: bytes
    received_at: datetime


@dataclass(frozen=True)
class AlertSignal:
    """One thing a source said about one alert group."""

    key: str  # the dedupe key: one open group per key
    firing: bool  # False: the source says it is resolved
    title: str
    level: str  # fatal, error, warning, info, debug; critical for metric alerts
    project: str
    environment: str
    rule: str
    url: str
    source: str
    resource: str  # event_alert, metric_alert, issue, error, legacy
    action: str
    occurred_at: datetime
    tags: Mapping[str, str] = field(default_factory=dict)


class GroupStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertGroup:
    id: int
    key: str
    status: GroupStatus
    title: str
    level: str
    project: str
    environment: str
    rule: str
    url: str
    source: str
    count: int
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = None


class Outcome(enum.StrEnum):
    NEW = "new"  # a group was opened
    REPEAT = "repeat"  # counted on the open group
    RESOLVED = "resolved"  # the open group was resolved
    IGNORED = "ignored"  # a resolve for a group that isn't open, or nothing to act on
