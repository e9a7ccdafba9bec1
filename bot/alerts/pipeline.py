"""The order alert work runs in, in one process: read kept deliveries into groups, fold
what Redis counted onto them, then let the router and the notices act on what changed.

The reader and the folder both lock alert groups, then their shared notice: taking turns
keeps them from deadlocking each other in Postgres. (Against another process Postgres
aborts one of the two, and it is done again on the next look.)
"""

from __future__ import annotations

__all__ = ["FOLD_DELAY", "FOLD_RETRY", "AlertPipeline"]

import asyncio
from collections.abc import Callable

from bot.alerts.routing import IncidentRouter
from bot.alerts.service import AlertService

FOLD_DELAY = 1.0  # seconds from a repeat counted in Redis to its fold onto the group
FOLD_RETRY = 2.0  # seconds after a fold that failed (its counts are still in Redis)


class AlertPipeline:
    def __init__(
        self,
        alerts: AlertService,
        router: IncidentRouter,
        *,
        route: Callable[[], None],
        show: Callable[[], None],
        fold_again: Callable[[float], None],
    ) -> None:
        self._alerts = alerts
        self._router = router
        self._route = route  # the router opens the incidents routing rules ask for
        self._show = show  # notices due are sent
        self._fold_again = fold_again  # the folder runs again in that many seconds
        self._writes = asyncio.Lock()

    async def read(self) -> None:
        async with self._writes:
            changes = await self._alerts.drain()
        self._route()
        self._show()
        await self._router.tell_incidents(changes)

    async def fold(self) -> None:
        try:
            async with self._writes:
                changes = await self._alerts.fold_repeats()
        finally:
            if self._alerts.fold_unfinished:
                self._fold_again(FOLD_RETRY)
        await self._router.tell_incidents(changes)
