"""Durations as people read them in Slack, timelines and postmortems."""

from __future__ import annotations

__all__ = ["short_duration", "spoken_duration"]

from datetime import timedelta

# Largest first: a duration is said in its largest unit and the one below it.
_UNITS = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def short_duration(delta: timedelta) -> str:
    """Whole minutes as minutes (`5 min`), anything else in seconds (`90 s`)."""
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds} s"


def spoken_duration(delta: timedelta) -> str:
    """As people say it: the largest unit and the next one down, whole, with a zero part
    left out — `0 s`, `13 s`, `1 min`, `4 min 10 s`, `2 h 5 min`, `3 d 4 h`. What is
    smaller than the second unit is dropped, never rounded up."""
    total = abs(delta) // timedelta(seconds=1)
    sign = "-" if delta < timedelta(0) and total else ""
    for index, (unit, size) in enumerate(_UNITS[:-1]):
        if total >= size:
            lower, lower_size = _UNITS[index + 1]
            rest = total % size // lower_size
            return f"{sign}{total // size} {unit}" + (f" {rest} {lower}" if rest else "")
    return f"{sign}{total} s"
