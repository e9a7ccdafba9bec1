"""`bot/durations.py`: every duration the bot words — postmortems, escalation stops,
silences, chains and playbook steps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.durations import age_words, short_duration, spoken_duration


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


@pytest.mark.parametrize(
    ("seconds", "spoken"),
    [
        (0, "0 s"),
        (13, "13 s"),
        (59.9, "59 s"),
        (60, "1 min 00 s"),
        (65, "1 min 05 s"),
        (250, "4 min 10 s"),
        (3599, "59 min 59 s"),
        (3600, "1 h 00 min"),
        (7500, "2 h 05 min"),
        (93_600, "26 h 00 min"),  # hours at most: no days
    ],
)
def test_the_padded_duration_of_the_escalation_timeline(seconds: float, spoken: str) -> None:
    assert spoken_duration(timedelta(seconds=seconds), padded=True) == spoken


@pytest.mark.parametrize(
    ("minutes", "said"),
    [(1, "1 min"), (30, "30 min"), (60, "1 h"), (90, "90 min"), (120, "2 h"), (1440, "24 h")],
)
def test_short_duration_in_minutes_for_silences(minutes: int, said: str) -> None:
    assert short_duration(timedelta(minutes=minutes), unit="min") == said


@pytest.mark.parametrize(
    ("age", "words"),
    [
        (timedelta(0), "0 seconds"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(seconds=90), "90 seconds"),
        (timedelta(minutes=2), "2 minutes"),
        (timedelta(hours=1), "60 minutes"),
        (timedelta(hours=30), "30 hours"),  # against a 26-hour limit: never "1 day"
        (timedelta(days=9, hours=23), "9 days"),
    ],
)
def test_an_age_is_said_in_the_largest_unit_that_counts_two_of_it(
    age: timedelta, words: str
) -> None:
    assert age_words(age) == words
