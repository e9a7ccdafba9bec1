"""Durations as people read them in Slack and timelines."""

from __future__ import annotations

__all__ = ["short_duration"]

from datetime import timedelta


def short_duration(delta: timedelta) -> str:
    """Whole minutes as minutes (`5 min`), anything else in seconds (`90 s`)."""
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds} s"
