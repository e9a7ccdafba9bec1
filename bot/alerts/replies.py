"""What the alert commands answer beyond the shared reply shapes: the firing groups and
the active silences, before any front renders them."""

from __future__ import annotations

__all__ = ["AlertListing", "AlertReply"]

from collections.abc import Sequence
from dataclasses import dataclass

from bot.alerts.model import AlertGroup, Silence
from bot.incidents.replies import Reply


@dataclass(frozen=True)
class AlertListing:
    firing: Sequence[AlertGroup]  # newest activity first
    silences: Sequence[Silence]  # active ones


AlertReply = Reply | AlertListing
