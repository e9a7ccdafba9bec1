"""Type aliases shared across the bot."""

from __future__ import annotations

__all__ = ["Clock", "JSONValue", "UserId"]

from collections.abc import Callable
from datetime import datetime

JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]
UserId = str  # a Slack user id ("U01ALICE00"), or "console:<name>" in the local shell
Clock = Callable[[], datetime]  # returns an aware UTC datetime
