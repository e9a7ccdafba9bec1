"""`spoken_duration`: durations as people say them, in every postmortem. (It lives in
`bot/durations.py`; its test sits with the postmortem, its one reader so far.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.durations import short_duration, spoken_duration


@pytest.mark.parametrize(
    ("seconds", "spoken"),
    [
        (0, "0 s"),
        (0.9, "0 s"),
        (13, "13 s"),
        (59, "59 s"),
        (60, "1 min"),
        (61, "1 min 1 s"),
        (250, "4 min 10 s"),
        (250.99, "4 min 10 s"),  # never rounded up
        (3599, "59 min 59 s"),
        (3600, "1 h"),
        (3613, "1 h"),  # two units at most: the seconds of an hour go unsaid
        (7500, "2 h 5 min"),
        (7559, "2 h 5 min"),
        (86_399, "23 h 59 min"),
        (86_400, "1 d"),
        (90_000, "1 d 1 h"),
        (3 * 86_400 + 4 * 3600 + 59 * 60, "3 d 4 h"),
        (40 * 86_400, "40 d"),
    ],
)
def test_spoken_duration(seconds: float, spoken: str) -> None:
    assert spoken_duration(timedelta(seconds=seconds)) == spoken


def test_a_negative_duration_keeps_its_sign() -> None:
    assert spoken_duration(timedelta(seconds=-250)) == "-4 min 10 s"
    assert spoken_duration(timedelta(milliseconds=-300)) == "0 s"


def test_short_duration_is_unchanged() -> None:
    assert short_duration(timedelta(minutes=5)) == "5 min"
    assert short_duration(timedelta(seconds=90)) == "90 s"
