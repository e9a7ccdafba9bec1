"""Uptime by Statuspage's rule over a made-up 90 days: major outage minutes count in full,
partial outage minutes at 30 %, degraded performance and maintenance as up, and the days
before a component's first recorded state are "no data", never up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.status.model import ComponentChange, ComponentState
from bot.status.uptime import uptime

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # noon: today has 720 observed minutes
TODAY = datetime(2026, 12, 2, tzinfo=UTC)
OK, DEGRADED = ComponentState.OPERATIONAL, ComponentState.DEGRADED_PERFORMANCE
PARTIAL, MAJOR = ComponentState.PARTIAL_OUTAGE, ComponentState.MAJOR_OUTAGE
MAINTENANCE = ComponentState.UNDER_MAINTENANCE


def day(n: int, hour: float = 0) -> datetime:
    """`n` days before today, at `hour`."""
    return TODAY - timedelta(days=n) + timedelta(hours=hour)


def changes(*states: tuple[datetime, ComponentState]) -> list[ComponentChange]:
    return [ComponentChange("engine", state, at) for at, state in states]


HISTORY = changes(
    (day(59), OK),  # first watched: the 30 days before have no data
    (day(20, 8), PARTIAL),  # 240 min at 30 %: 72 min down
    (day(20, 12), OK),
    (day(10, 10), MAJOR),  # 144 min in full
    (day(10, 12.4), OK),
    (day(5), DEGRADED),  # 6 h degraded: up
    (day(5, 6), OK),
    (day(3, 23), MAJOR),  # an hour either side of midnight: 60 min on each day
    (day(2, 1), OK),
    (day(1, 2), MAINTENANCE),  # 2 h under maintenance: up
    (day(1, 4), OK),
)


def test_days_before_the_first_record_are_no_data_and_count_for_nothing() -> None:
    bars = uptime(HISTORY, NOW).days
    assert len(bars) == 90
    assert bars[0].day == (TODAY - timedelta(days=89)).date()
    assert bars[-1].day == TODAY.date()
    for bar in bars[:30]:
        assert (bar.observed_minutes, bar.down_minutes, bar.worst, bar.uptime) == (0, 0, None, None)
    assert bars[30].worst is OK
    assert bars[30].uptime == 1


def test_partial_outage_counts_at_30_percent_and_major_in_full() -> None:
    bars = {b.day: b for b in uptime(HISTORY, NOW).days}
    partial = bars[day(20).date()]
    assert (partial.worst, partial.down_minutes, partial.observed_minutes) == (PARTIAL, 72, 1440)
    assert partial.uptime == pytest.approx(1 - 72 / 1440)
    major = bars[day(10).date()]
    assert (major.worst, major.down_minutes) == (MAJOR, pytest.approx(144))
    assert major.uptime == pytest.approx(0.9)


def test_degraded_and_maintenance_count_as_up_but_show_on_their_day() -> None:
    bars = {b.day: b for b in uptime(HISTORY, NOW).days}
    degraded, maintained = bars[day(5).date()], bars[day(1).date()]
    assert (degraded.worst, degraded.down_minutes, degraded.uptime) == (DEGRADED, 0, 1)
    assert (maintained.worst, maintained.down_minutes, maintained.uptime) == (MAINTENANCE, 0, 1)


def test_an_outage_across_midnight_is_split_between_its_days() -> None:
    bars = {b.day: b for b in uptime(HISTORY, NOW).days}
    assert bars[day(3).date()].down_minutes == pytest.approx(60)
    assert bars[day(2).date()].down_minutes == pytest.approx(60)
    assert bars[day(3).date()].worst is bars[day(2).date()].worst is MAJOR


def test_the_percentage_is_over_the_observed_minutes_only() -> None:
    found = uptime(HISTORY, NOW)
    observed = 59 * 1440 + 720  # day 59 to yesterday in full, today until noon
    assert sum(b.observed_minutes for b in found.days) == pytest.approx(observed)
    assert found.days[-1].observed_minutes == pytest.approx(720)
    down = 72 + 144 + 120
    assert found.percent == pytest.approx(100 * (1 - down / observed))


def test_nothing_recorded_is_no_percentage_at_all() -> None:
    found = uptime([], NOW)
    assert found.percent is None
    assert {b.worst for b in found.days} == {None}


def test_a_component_down_since_before_the_window_is_down_from_its_first_day() -> None:
    """The store hands the last state before the window, moved to the window's start."""
    start = day(89)
    found = uptime(changes((start, MAJOR)), NOW)
    assert found.percent == 0
    assert {b.worst for b in found.days} == {MAJOR}


def _by_brute_force(history: list[ComponentChange], now: datetime) -> list[tuple[float, float]]:
    """Each day's observed and down minutes, minute by minute."""
    ordered = sorted(history, key=lambda c: c.at)
    first = TODAY - timedelta(days=89)
    found = []
    for n in range(90):
        observed = down = 0.0
        for minute in range(1440):
            at = first + timedelta(days=n, minutes=minute)
            if at >= now:
                break
            states = [c.state for c in ordered if c.at <= at]
            if states:
                observed += 1
                down += {MAJOR: 1.0, PARTIAL: 0.3}.get(states[-1], 0.0)
        found.append((observed, down))
    return found


@pytest.mark.parametrize("seed", range(3))
def test_the_bars_agree_with_counting_minute_by_minute(seed: int) -> None:
    rng = random.Random(seed)
    states = [OK, DEGRADED, PARTIAL, MAJOR, MAINTENANCE]
    history = changes(
        *(
            (
                day(rng.randint(0, 100), rng.randint(0, 23))
                + timedelta(minutes=rng.randint(0, 59)),
                rng.choice(states),
            )
            for _ in range(rng.randint(1, 40))
        )
    )
    bars = uptime(history, NOW).days
    expected = _by_brute_force(history, NOW)
    for bar, (observed, down) in zip(bars, expected, strict=True):
        assert bar.observed_minutes == pytest.approx(observed)
        assert bar.down_minutes == pytest.approx(down)
