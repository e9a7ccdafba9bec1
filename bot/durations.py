"""Durations as people read them in Slack, timelines and postmortems: the one place that
words a `timedelta`."""

from __future__ import annotations

__all__ = ["age_words", "short_duration", "spoken_duration"]

from datetime import timedelta
from itertools import pairwise
from typing import Literal

# Largest first: a duration is said in its largest unit and the one below it.
_UNITS = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))
_SIZES = dict(_UNITS)
_ABOVE = {"s": "min", "min": "h"}


def short_duration(delta: timedelta, *, unit: Literal["s", "min"] = "s") -> str:
    """In one unit: the one above `unit` when the duration is a whole number of them
    (`5 min`; `2 h` with `unit="min"`), else whole `unit`s (`90 s`; `90 min`)."""
    seconds = int(delta.total_seconds())
    upper = _ABOVE[unit]
    if seconds >= _SIZES[upper] and seconds % _SIZES[upper] == 0:
        return f"{seconds // _SIZES[upper]} {upper}"
    return f"{seconds // _SIZES[unit]} {unit}"


def spoken_duration(delta: timedelta, *, padded: bool = False) -> str:
    """As people say it: the largest unit and the next one down, whole, with a zero part
    left out — `0 s`, `13 s`, `1 min`, `4 min 10 s`, `2 h 5 min`, `3 d 4 h`. What is
    smaller than the second unit is dropped, never rounded up.

    `padded` is the escalation timeline's way: hours at most, and the second part always,
    in two digits — `13 s`, `1 min 00 s`, `4 min 05 s`, `26 h 00 min`."""
    total = abs(delta) // timedelta(seconds=1)
    sign = "-" if delta < timedelta(0) and total else ""
    for (unit, size), (lower, lower_size) in pairwise(_UNITS[1:] if padded else _UNITS):
        if total >= size:
            rest = total % size // lower_size
            if padded:
                return f"{sign}{total // size} {unit} {rest:02d} {lower}"
            return f"{sign}{total // size} {unit}" + (f" {rest} {lower}" if rest else "")
    return f"{sign}{total} s"


_WORDS = (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


def age_words(delta: timedelta) -> str:
    """How old something is, in words, in the largest unit that counts at least two of it
    (so 30 hours aren't "1 day"): `9 days`, `30 hours`, `90 minutes`, `40 seconds`."""
    seconds = max(0, int(delta.total_seconds()))
    for word, size in _WORDS:
        if seconds >= 2 * size or size == 1:
            count = seconds // size
            return f"{count} {word}{'' if count == 1 else 's'}"
    raise AssertionError("unreachable")
