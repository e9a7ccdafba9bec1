"""Uptime from the stored history of a component's states, by Statuspage's rule: major
outage minutes count as down in full, partial outage minutes at 30 %, and degraded
performance and maintenance as up. A day before the component's first recorded state is
"no data", never up."""

from __future__ import annotations

__all__ = ["RULE", "DayBar", "Uptime", "uptime"]

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.status.model import ComponentChange, ComponentState, worst

RULE = (
    "Uptime counts major outage minutes as down in full and partial outage minutes at 30 %; "
    "degraded performance and maintenance count as up. Days before a component was watched "
    "show no data."
)
_DOWN = {ComponentState.MAJOR_OUTAGE: 1.0, ComponentState.PARTIAL_OUTAGE: 0.3}
DAY = timedelta(days=1)


@dataclass(frozen=True)
class DayBar:
    day: date
    observed_minutes: float  # 0: no data that day
    down_minutes: float  # weighted by the rule
    worst: ComponentState | None  # None: no data

    @property
    def uptime(self) -> float | None:
        if not self.observed_minutes:
            return None
        return 1 - self.down_minutes / self.observed_minutes


@dataclass(frozen=True)
class Uptime:
    days: tuple[DayBar, ...]  # oldest first

    @property
    def percent(self) -> float | None:
        """Over the observed minutes only; None when nothing was observed."""
        observed = sum(d.observed_minutes for d in self.days)
        if not observed:
            return None
        return 100 * (1 - sum(d.down_minutes for d in self.days) / observed)


def uptime(changes: Sequence[ComponentChange], now: datetime, days: int = 90) -> Uptime:
    """One component's bars for the `days` days up to and including today (UTC), from its
    changes in time order. The state before the first change is unknown: no data."""
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    spans = _spans(changes, now)
    bars = []
    first_open = 0  # spans follow each other in time: each day looks only at its own
    for offset in range(days):
        day = first + timedelta(days=offset)
        start = datetime.combine(day, time.min, UTC)
        end = min(start + DAY, now)
        while first_open < len(spans) and spans[first_open][2] <= start:
            first_open += 1
        observed = down = 0.0
        seen: list[ComponentState] = []
        for state, since, until in _starting_before(spans, first_open, end):
            overlap = (min(until, end) - max(since, start)).total_seconds() / 60
            if overlap <= 0:
                continue
            observed += overlap
            down += overlap * _DOWN.get(state, 0.0)
            seen.append(state)
        bars.append(DayBar(day, observed, down, worst(seen) if seen else None))
    return Uptime(tuple(bars))


def _starting_before(
    spans: Sequence[tuple[ComponentState, datetime, datetime]], first: int, end: datetime
) -> Iterator[tuple[ComponentState, datetime, datetime]]:
    for span in spans[first:]:
        if span[1] >= end:
            return
        yield span


def _spans(
    changes: Sequence[ComponentChange], now: datetime
) -> list[tuple[ComponentState, datetime, datetime]]:
    ordered = sorted(changes, key=lambda c: c.at)
    return [
        (change.state, change.at, ordered[i + 1].at if i + 1 < len(ordered) else now)
        for i, change in enumerate(ordered)
    ]
