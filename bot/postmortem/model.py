"""What a postmortem is made of, gathered from the database in one read."""

from __future__ import annotations

__all__ = [
    "AlertLine",
    "FollowUp",
    "PageLine",
    "PostmortemData",
    "RunLine",
]

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.incidents.model import Incident, TimelineEvent


@dataclass(frozen=True)
class AlertLine:
    key: str
    title: str
    project: str
    environment: str
    count: int
    notified: int  # Slack messages that showed it (0 when it was silenced, say)
    first_seen: datetime
    url: str


@dataclass(frozen=True)
class PageLine:
    person: str
    target: str  # the role, or the Slack user id asked for
    created_at: datetime
    status: str
    channels: tuple[tuple[str, bool, str], ...]  # (channel, ok, detail), by channel
    acknowledged_by: str | None
    # When it first went out: its first channel's result, or when it finished with no
    # channel to try. None when it never did (still pending, cancelled, throttled).
    attempted_at: datetime | None = None


@dataclass(frozen=True)
class RunLine:
    id: int
    playbook: str
    service: str
    state: str
    requested_by: str
    approved_by: str | None
    result: str
    steps: tuple[tuple[int, str, str, str, float | None], ...]  # (index, kind, state, detail, s)


@dataclass(frozen=True)
class FollowUp:
    id: int
    text: str
    owner: str | None
    created_by: str
    created_at: datetime
    done_at: datetime | None
    done_by: str | None
    blocking: bool = False  # the launch gate is NO-GO until it is done


@dataclass(frozen=True)
class PostmortemData:
    incident: Incident
    timeline: Sequence[TimelineEvent]
    alerts: Sequence[AlertLine]
    pages: Sequence[PageLine]
    runs: Sequence[RunLine]
    followups: Sequence[FollowUp]
    names: Mapping[str, str] = field(default_factory=dict)  # Slack user id → the owners' name
