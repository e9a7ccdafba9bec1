"""Work that runs after a request is acknowledged, held so none of it is orphaned.

Shutdown waits for it (up to a limit) before the database closes, so a SIGTERM never
cuts a unit of work in half; what is still running at the limit is cancelled, and its
open transaction rolls back.
"""

from __future__ import annotations

__all__ = ["BackgroundTasks", "SingleFlight", "Soon"]

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot import log_messages as msg

log = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def closing(self) -> bool:
        return self._closing

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        if self._closing:
            work.close()
            raise RuntimeError("shutting down: not accepting new work")
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                msg.BACKGROUND_TASK_FAILED,
                exc_info=task.exception(),
                extra={"task": task.get_name()},
            )

    async def drain(self, limit: float = 25.0) -> None:
        """Wait for everything in flight; cancel what is left after `limit` seconds."""
        self._closing = True
        try:
            await self.wait_idle(limit)
        except TimeoutError:
            log.warning(msg.BACKGROUND_TASKS_CANCELLED, extra={"count": len(self._tasks)})
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def wait_idle(self, limit: float = 10.0) -> None:
        """Wait until no work is in flight, including work spawned while waiting."""
        async with asyncio.timeout(limit):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)


class SingleFlight:
    """A job run in the background, never twice at once: a `kick` while it runs makes it
    run once more afterwards, so nothing kicked is left waiting."""

    def __init__(
        self,
        job: Callable[[], Awaitable[object]],
        background: BackgroundTasks,
        *,
        name: str,
        finished: Callable[[], None] = lambda: None,
    ) -> None:
        self._job = job
        self._background = background
        self._name = name
        self._finished = finished  # after each run: what it stored may have moved a timer
        self._running = False
        self._again = False

    def kick(self) -> None:
        if self._background.closing:  # what it would do is in the rows: the next start does it
            return
        if self._running:
            self._again = True
            return
        self._running = True
        self._background.spawn(self._run(), name=self._name)

    async def _run(self) -> None:
        try:
            while True:
                self._again = False
                await self._job()
                if not self._again:
                    return
        finally:
            self._running = False
            self._finished()
            if self._again:  # kicked while a run failed: that kick still gets its run
                self.kick()


class Soon:
    """Kicks a `SingleFlight` `delay` seconds after the first `poke` of a quiet spell: a
    flood of pokes costs one run per `delay`, and a single poke is never left waiting."""

    def __init__(self, flight: SingleFlight, delay: float) -> None:
        self._flight = flight
        self._delay = delay
        self._timer: asyncio.TimerHandle | None = None

    def poke(self, delay: float | None = None) -> None:
        """Run in `delay` seconds (the default one if None), unless a run is due already."""
        if self._timer is None:
            wait = self._delay if delay is None else delay
            self._timer = asyncio.get_running_loop().call_later(wait, self._fire)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self) -> None:
        self._timer = None
        self._flight.kick()
