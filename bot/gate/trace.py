"""The alert pipeline trace (`/lucia gate trace`): a signed synthetic Sentry webhook sent
to the bot's own public URL, followed hop by hop through what the database records.

    accepted  the public URL answered 2xx (through Cloudflare and Render in production)
    stored    the delivery is in the inbox
    grouped   the reader made the trace's alert group from it
    posted    the group's notice is in the alerts channel (a Slack message ts is stored)

The delivery says it is synthetic in its signed body, so it pages nobody and opens no
incident; the trace resolves it afterwards. A hop is seen only when the database shows it
within the time given; a URL that doesn't answer 2xx leaves the other hops unlooked-for,
never passed. The gate stores the `TraceResult` as evidence (`to_json`).
"""

from __future__ import annotations

__all__ = ["HOPS", "POLL", "AlertTrace", "Hop", "TraceResult"]

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

from bot.errors import StoreUnavailable
from bot.gate.trace_ports import Accepted, HopReader, HopsSeen, TraceAlerts, TraceSender
from bot.types import Clock, JSONValue

HOPS = ("accepted", "stored", "grouped", "posted")
POLL = 0.2  # seconds between two looks at the database while a trace runs


@dataclass(frozen=True)
class Hop:
    name: str  # one of HOPS
    seen: bool
    at: datetime | None  # when it happened, as recorded (the database's rows, or the answer)
    after_ms: float | None  # since the trace started
    detail: str  # plain words: what was seen, or why not

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "name": self.name,
            "seen": self.seen,
            "at": self.at.isoformat() if self.at else None,
            "after_ms": self.after_ms,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class TraceResult:
    trace_id: str
    started_at: datetime
    hops: tuple[Hop, ...]
    by: str = ""
    within: float = 0.0  # seconds the hops were waited for
    resolved: str = ""  # what became of the synthetic alert afterwards, in plain words

    @property
    def passed(self) -> bool:
        """Every hop seen; nothing unknown passes."""
        return len(self.hops) == len(HOPS) and all(h.seen for h in self.hops)

    def hop(self, name: str) -> Hop:
        return next(h for h in self.hops if h.name == name)

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "trace_id": self.trace_id,
            "started_at": self.started_at.isoformat(),
            "by": self.by,
            "within": self.within,
            "passed": self.passed,
            "hops": [h.to_json() for h in self.hops],
            "resolved": self.resolved,
        }


class AlertTrace:
    def __init__(
        self,
        sender: TraceSender,
        hops: HopReader,
        alerts: TraceAlerts,
        clock: Clock,
        *,
        changed: Callable[[], None] = lambda: None,
        poll: float = POLL,
        new_id: Callable[[], str] = lambda: secrets.token_hex(8),
    ) -> None:
        self._sender = sender
        self._hops = hops
        self._alerts = alerts
        self._clock = clock
        self._changed = changed  # after the resolve: its notice update is due (the wake-ups)
        self._poll = poll
        self._new_id = new_id

    async def run(self, by: str, within: float = 20.0) -> TraceResult:
        """Send one synthetic alert, wait up to `within` seconds for every hop, resolve it."""
        trace_id = self._new_id()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        started = self._clock()
        try:
            async with asyncio.timeout_at(deadline):
                accepted = await self._sender.send(trace_id)
        except TimeoutError:
            accepted = Accepted(None, within * 1000, f"no answer within {within:g} s")
        first = _accepted_hop(accepted, started)
        if accepted.ok:
            seen, problem = await self._watch(trace_id, accepted.delivery_id, deadline)
            rest = _database_hops(seen, accepted.delivery_id, started, within, problem)
        else:
            rest = tuple(
                Hop(name, False, None, None, "not looked for: the webhook was not accepted")
                for name in HOPS[1:]
            )
        return TraceResult(
            trace_id=trace_id,
            started_at=started,
            hops=(first, *rest),
            by=by,
            within=within,
            resolved=await self._resolve(trace_id),
        )

    async def _watch(
        self, trace_id: str, delivery_id: int | None, deadline: float
    ) -> tuple[HopsSeen, str | None]:
        """Look until every hop is seen or the time is up; what was seen once stays seen."""
        loop = asyncio.get_running_loop()
        seen, problem = HopsSeen(), None
        while True:
            try:
                seen, problem = _kept(seen, await self._hops.hops(trace_id, delivery_id)), None
            except StoreUnavailable as exc:
                problem = str(exc)
            done = seen.stored_at and seen.grouped_at and seen.posted_at
            if done or loop.time() + self._poll > deadline:
                return seen, problem
            await asyncio.sleep(self._poll)

    async def _resolve(self, trace_id: str) -> str:
        try:
            group = await self._alerts.resolve_trace(trace_id)
        except StoreUnavailable as exc:
            return f"not resolved: {exc}"
        self._changed()
        if group is None:
            return "nothing was firing; a late delivery of this trace will be ignored"
        return f"alert group A{group.id} resolved"


def _kept(old: HopsSeen, new: HopsSeen) -> HopsSeen:
    """The newer look, but nothing seen before is forgotten."""
    values = {f.name: getattr(old, f.name) for f in fields(old)}
    return replace(new, **{k: v for k, v in values.items() if v is not None})


def _accepted_hop(accepted: Accepted, started: datetime) -> Hop:
    at = started + timedelta(milliseconds=accepted.elapsed_ms)
    ms = round(accepted.elapsed_ms, 1)
    if accepted.ok:
        return Hop("accepted", True, at, ms, f"HTTP {accepted.status} in {ms:g} ms")
    answered = accepted.status is not None
    problem = accepted.problem or f"answered HTTP {accepted.status}"
    return Hop("accepted", False, at if answered else None, ms if answered else None, problem)


def _database_hops(
    seen: HopsSeen,
    delivery_id: int | None,
    started: datetime,
    within: float,
    problem: str | None,
) -> tuple[Hop, ...]:
    late = f"after {within:g} s" + (f" (the database: {problem})" if problem else "")
    if delivery_id is None:
        stored = Hop("stored", False, None, None, "unknown: the answer named no stored delivery")
    elif seen.stored_at is None:
        stored = Hop("stored", False, None, None, f"delivery {delivery_id} not in the inbox {late}")
    else:
        stored = _seen("stored", seen.stored_at, started, f"delivery {delivery_id} in the inbox")
    if seen.group_id is None:
        why = f"; the delivery was read as {seen.read_as}" if seen.read_as else ""
        if seen.stored_at is not None and seen.read_as is None:
            why = "; the delivery is still unread"
        grouped = Hop("grouped", False, None, None, f"no alert group {late}{why}")
    else:
        grouped = _seen("grouped", seen.grouped_at, started, f"alert group A{seen.group_id}")
    if seen.posted_at is None:
        posted = Hop("posted", False, None, None, f"not in the alerts channel {late}")
    else:
        where = f"message {seen.message_ts} in {seen.channel_id}"
        posted = _seen("posted", seen.posted_at, started, where)
    return stored, grouped, posted


def _seen(name: str, at: datetime | None, started: datetime, detail: str) -> Hop:
    after = round((at - started).total_seconds() * 1000, 1) if at else None
    return Hop(name, True, at, after, detail)
