"""What the alert pipeline trace needs from outside: a sender of the signed synthetic
webhook (`bot/sentry/synthetic.py`), a reader of what the database shows of it
(`bot/store/trace_hops.py`), and the alerts service that resolves it afterwards."""

from __future__ import annotations

__all__ = ["Accepted", "HopReader", "HopsSeen", "TraceAlerts", "TraceSender"]

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.alerts.model import AlertGroup


@dataclass(frozen=True)
class Accepted:
    """What the bot's public URL answered to the synthetic webhook.

    `status` is None when no HTTP answer came; `problem` says why in plain words
    ("connection refused", "no answer within 5 s", "answered HTTP 401: signature does not
    match the body"); it is None only for a 2xx. `delivery_id` is the inbox row the answer
    names, when it names one."""

    status: int | None
    elapsed_ms: float
    problem: str | None = None
    delivery_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.problem is None


class TraceSender(Protocol):
    async def send(self, trace_id: str) -> Accepted:
        """POST the signed synthetic webhook for `trace_id`. Never raises for the network
        or for what the URL answers: every outcome is an `Accepted`."""
        ...


@dataclass(frozen=True)
class HopsSeen:
    """What the database shows of one trace, each with the time the database recorded."""

    stored_at: datetime | None = None  # the delivery's row in the inbox (received)
    read_as: str | None = None  # once read: its outcome ("new", "unreadable: …", "failed: …")
    grouped_at: datetime | None = None  # the delivery was read into the trace's group
    group_id: int | None = None
    posted_at: datetime | None = None  # the group's notice has a Slack message
    channel_id: str | None = None
    message_ts: str | None = None


class HopReader(Protocol):
    async def hops(self, trace_id: str, delivery_id: int | None) -> HopsSeen:
        """One look. `delivery_id` is the inbox row the webhook's answer named (None: the
        inbox isn't looked at); a row counts only if its body carries `trace_id`. Raises
        `StoreUnavailable` when the database can't be reached."""
        ...


class TraceAlerts(Protocol):
    """`AlertService` is one."""

    async def resolve_trace(self, trace_id: str) -> AlertGroup | None:
        """Resolve the trace's alert group; None when there was none firing. Raises
        `StoreUnavailable`."""
        ...
