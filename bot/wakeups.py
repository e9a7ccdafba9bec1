"""Wakes the bot's workers when something stored is due, and otherwise leaves them asleep.

The timers are rows (a notice's, an escalation's, a page's `due_at`; an unread delivery; a
route to open): one statement says when the earliest is due, and the workers run then.
After any worker finishes, the next due time is read again, since what it did may have
made or moved a timer. An idle bot reads it once a minute — that is also how it notices
work another process left behind — instead of running every worker every second (Upstash
bills per command and Supabase's pooler counts every transaction).
"""

from __future__ import annotations

__all__ = ["Wakeups"]

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot import log_messages as msg
from bot.errors import StoreUnavailable
from bot.types import Clock

log = logging.getLogger(__name__)

IDLE_LOOK = timedelta(seconds=60)  # with nothing due, look again after this
MIN_GAP = 0.5  # seconds between two looks, however busy: a flood asks twice a second
RETRY_DUE = 1.0  # seconds before waking workers again for work that was due and still is


class Wakeups:
    def __init__(
        self,
        next_due: Callable[[], Awaitable[datetime | None]],
        wake: Callable[[], None],
        clock: Clock,
        *,
        idle_look: timedelta = IDLE_LOOK,
    ) -> None:
        self._next_due = next_due
        self._wake = wake  # kicks every worker; each calls `changed` when it finishes
        self._clock = clock
        self._idle_look = idle_look.total_seconds()
        self._changed = asyncio.Event()

    def changed(self) -> None:
        """Something was stored that may be due: look again (soon, not at once)."""
        self._changed.set()

    async def run(self) -> None:
        """Until cancelled: look, wake the workers if anything is due, sleep until the next."""
        loop = asyncio.get_running_loop()
        woke_at = float("-inf")
        while True:
            looked_at = loop.time()
            self._changed.clear()
            try:
                due = await self._next_due()
            except StoreUnavailable as exc:
                log.warning(msg.WAKEUPS_DATABASE_UNREACHABLE, extra={"error": str(exc)})
                due = self._clock() + timedelta(seconds=5)
            wait = self._idle_look
            if due is not None:
                wait = min(wait, max((due - self._clock()).total_seconds(), 0.0))
            if wait == 0.0 and loop.time() - woke_at >= RETRY_DUE:
                woke_at = loop.time()
                self._wake()
                wait = self._idle_look  # until a worker says it is done, or a minute
            elif wait == 0.0:
                wait = RETRY_DUE - (loop.time() - woke_at)
            await self._sleep(wait)
            await asyncio.sleep(max(0.0, MIN_GAP - (loop.time() - looked_at)))

    async def _sleep(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._changed.wait()
        except TimeoutError:
            pass
