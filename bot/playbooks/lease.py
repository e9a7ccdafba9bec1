"""Leases on executing runs: how a run whose bot died is noticed.

The bot executing a run renews the run's lease (`heartbeat_at`) every quarter of
`playbooks.run_lease` while it runs — a task that exists only during a run. A run whose
lease ran out was left by a bot that stopped (`kill -9`, a crash, a lost machine): a sweep
marks it interrupted, which frees its service.

Nothing polls. A sweep runs when the bot starts, and again at the moment the earliest
lease it saw would run out (`WakeAt`: the composition root sets a one-shot timer); one that
finds no executing run sets no timer. Planning a run on a service held by a run whose
lease ran out sweeps that run first, so the lock never outlives its bot.
"""

from __future__ import annotations

__all__ = ["Leases", "WakeAt"]

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from bot import log_messages as msg
from bot.errors import StoreUnavailable
from bot.playbooks.ports import PlaybookStore, StoredRun
from bot.types import Clock

log = logging.getLogger(__name__)

WakeAt = Callable[[datetime], None]  # run a sweep at (or soon after) this time
_MARGIN = timedelta(milliseconds=50)  # wake just after a lease ends, not just before


class Leases:
    def __init__(
        self, store: PlaybookStore, clock: Clock, lease: timedelta, wake_at: WakeAt | None
    ) -> None:
        self._store = store
        self._clock = clock
        self.lease = lease
        self._wake_at = wake_at
        self._next_wake: datetime | None = None

    @asynccontextmanager
    async def held(self, run_id: int) -> AsyncIterator[None]:
        """Renew the run's lease while the body runs (this bot is executing it)."""
        renewing = asyncio.create_task(self._renew(run_id), name=f"run-lease-{run_id}")
        try:
            yield
        finally:
            renewing.cancel()
            await asyncio.wait([renewing])

    async def _renew(self, run_id: int) -> None:
        every = max(self.lease.total_seconds() / 4, 0.05)
        while True:
            await asyncio.sleep(every)
            try:
                if not await self._store.renew_lease(run_id, self._clock()):
                    return  # finished, cancelled, or taken as interrupted
            except StoreUnavailable as exc:  # tried again at the next beat, within the lease
                log.warning(
                    msg.PLAYBOOK_LEASE_NOT_RENEWED, extra={"run": run_id, "error": str(exc)}
                )

    def expires(self, run: StoredRun) -> datetime:
        """When the run's lease runs out (runs from before leases: their start)."""
        return (run.heartbeat_at or run.started_at or run.created_at) + self.lease

    def ran_out(self, run: StoredRun) -> bool:
        return (
            run.started
            and run.state in ("running", "awaiting_approval")
            and (self.expires(run) <= self._clock())
        )

    def stale_before(self) -> datetime:
        """A lease renewed before this has run out."""
        return self._clock() - self.lease

    def wake(self, at: datetime | None) -> None:
        """Sweep again at `at`, unless an earlier sweep is already due."""
        if at is None or self._wake_at is None:
            return
        now = self._clock()
        if self._next_wake is not None and now < self._next_wake <= at:
            return
        self._next_wake = at
        self._wake_at(at + _MARGIN)
