"""What an alert is once a source's payload has been read."""

from __future__ import annotations

__all__ = [
    "RESTORED_SOURCE",
    "TRACE_SOURCE",
    "AlertGroup",
    "AlertSignal",
    "Delivery",
    "Fold",
    "GroupStatus",
    "Notice",
    "NoticeStatus",
    "NoticeTiming",
    "Outcome",
    "Silence",
    "restored_signal",
    "trace_key",
    "trace_signal",
]

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta


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
    # Set only for the launch gate's synthetic trace (`/lucia gate trace`), read from the
    # signed body: it is shown as synthetic, pages nobody and opens no incident.
    trace_id: str | None = None

    @property
    def synthetic(self) -> bool:
        return self.trace_id is not None


# The source of a group made from repeats Redis counted for a key the database had no
# group for: all that is known is the key, until the key's next delivery says more.
RESTORED_SOURCE = "restored"


# The source of a synthetic trace's alert group, and its key: one group per trace, never
# mixed with a real alert's (a real key is `sentry:…`).
TRACE_SOURCE = "synthetic"


def trace_key(trace_id: str) -> str:
    return f"lucia:trace:{trace_id}"


def trace_signal(trace_id: str, at: datetime, *, firing: bool) -> AlertSignal:
    """What a synthetic trace is as an alert, whatever shape its delivery had."""
    return AlertSignal(
        key=trace_key(trace_id),
        firing=firing,
        title=f"Synthetic alert trace {trace_id} (pages nobody)",
        level="info",
        project="",
        environment="",
        rule="",
        url="",
        source=TRACE_SOURCE,
        resource="event_alert",
        action="triggered" if firing else "resolved",
        occurred_at=at,
        trace_id=trace_id,
    )


def restored_signal(key: str, seen: datetime) -> AlertSignal:
    kind, _, number = key.rpartition(":")
    what = f"Sentry issue {number}" if kind == "sentry:issue" else f"Alert {key}"
    return AlertSignal(
        key=key,
        firing=True,
        title=f"{what} (details come with its next event)",
        level="error",
        project="",
        environment="",
        rule="",
        url="",
        source=RESTORED_SOURCE,
        resource="",
        action="triggered",
        occurred_at=seen,
    )


@dataclass(frozen=True)
class Fold:
    """Repeats counted in Redis since the last fold: key → (count, last seen). The id is
    the same each time the same counts are taken, until they are folded."""

    id: str
    counts: Mapping[str, tuple[int, datetime]]
    locked_elsewhere: bool = False  # another folder holds the lock: nothing taken now
    # These are a fold that didn't finish, and newer counts wait behind them: fold again.
    more_waiting: bool = False


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
    notice_id: int | None = None
    route_state: str | None = None  # "pending"/"opening" until its incident exists, then "done"
    route_severity: str | None = None
    route_page: str | None = None  # launch-gate roles to page, comma-separated
    incident_number: int | None = None
    noted_at: datetime | None = None
    noted_count: int = 0

    @property
    def synthetic(self) -> bool:
        """A launch-gate trace's group: shown as synthetic, pages nobody, opens nothing."""
        return self.source == TRACE_SOURCE

    @property
    def group_by(self) -> str:
        """Alerts of one project and environment are shown together, like Alertmanager's
        group_by: a flood of distinct issues becomes one message that updates. A synthetic
        trace has a message of its own."""
        if self.synthetic:
            return self.key
        return f"{self.project}|{self.environment}"


class NoticeStatus(enum.StrEnum):
    OPEN = "open"  # new alert groups of its project/environment join it
    CLOSED = "closed"  # everything in it resolved; the next alert starts a new one


@dataclass(frozen=True)
class Notice:
    """The Slack message a set of alert groups is shown in, and its send timer."""

    id: int
    group_by: str
    status: NoticeStatus
    created_at: datetime
    version: int  # bumped by every change to what it shows
    sent_version: int  # the version Slack shows
    channel_id: str | None = None
    message_ts: str | None = None
    sent_at: datetime | None = None
    due_at: datetime | None = None  # send (again) then; None: nothing to send
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class NoticeTiming:
    group_wait: timedelta  # how long a new notice gathers alerts before it is first posted
    update_interval: timedelta  # at most one chat.update per message this often


class Outcome(enum.StrEnum):
    NEW = "new"  # a group was opened
    REPEAT = "repeat"  # counted on the open group
    RESOLVED = "resolved"  # the open group was resolved
    IGNORED = "ignored"  # a resolve for a group that isn't open, or nothing to act on


@dataclass(frozen=True)
class Silence:
    """While it lasts, matching alert groups are counted and kept but not posted, and open
    no incident."""

    id: int
    group_id: int | None  # one alert group, or
    project: str | None  # every alert group of a project
    reason: str
    created_by: str
    created_at: datetime
    ends_at: datetime
    lifted_at: datetime | None = None
    lifted_by: str | None = None

    def covers(self, group: AlertGroup) -> bool:
        if self.group_id is not None:
            return self.group_id == group.id
        return (self.project or "").lower() == group.project.lower()
