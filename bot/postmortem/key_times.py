"""The moments a postmortem reports, read from the incident's history — the timeline and
the pages — not from the incident row, which keeps only where it stands now (a reopened
incident has no acknowledgement, mitigation or resolution there any more).

- acknowledged and mitigated: the first such event;
- resolved: the last resolution, while the incident is resolved; each earlier resolution
  is kept with the reopening that undid it;
- first page: when the first page went out, delivered or not.
"""

from __future__ import annotations

__all__ = ["KeyTimes", "Reopening", "key_times"]

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.incidents.model import EventKind, Status, TimelineEvent
from bot.postmortem.model import PostmortemData

# A `page` event written once the page was tried carries its outcome (bot/paging/delivery.py).
_TRIED = frozenset({"sent", "failed"})


@dataclass(frozen=True)
class Reopening:
    resolved: datetime | None  # the resolution it undid (None: no `resolved` event kept)
    reopened: datetime


@dataclass(frozen=True)
class KeyTimes:
    declared: datetime
    first_alert: datetime | None
    first_page: datetime | None
    acknowledged: datetime | None
    mitigated: datetime | None
    resolved: datetime | None  # the resolution that stands now; None while it is open
    reopenings: tuple[Reopening, ...]  # in order


def key_times(data: PostmortemData) -> KeyTimes:
    incident, timeline = data.incident, data.timeline
    reopenings: list[Reopening] = []
    last_resolved: datetime | None = None
    for event in timeline:
        if event.kind is EventKind.RESOLVED:
            last_resolved = event.at
        elif event.kind is EventKind.REOPENED:
            reopenings.append(Reopening(last_resolved, event.at))
            last_resolved = None
    resolved = None
    if incident.status is Status.RESOLVED:
        resolved = last_resolved or incident.resolved_at
    page_events = (
        e.at for e in timeline if e.kind is EventKind.PAGE and e.data.get("status") in _TRIED
    )
    return KeyTimes(
        declared=incident.created_at,
        first_alert=min((a.first_seen for a in data.alerts), default=None),
        first_page=_earliest(
            [p.attempted_at for p in data.pages if p.attempted_at is not None], page_events
        ),
        acknowledged=_first(timeline, EventKind.ACKNOWLEDGED) or incident.acknowledged_at,
        mitigated=_first(timeline, EventKind.MITIGATED) or incident.mitigated_at,
        resolved=resolved,
        reopenings=tuple(reopenings),
    )


def _first(timeline: Iterable[TimelineEvent], kind: EventKind) -> datetime | None:
    return next((e.at for e in timeline if e.kind is kind), None)


def _earliest(*times: Iterable[datetime]) -> datetime | None:
    return min((at for some in times for at in some), default=None)
