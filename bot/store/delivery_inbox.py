"""The delivery inbox: a webhook's body committed before it is answered, in group commits."""

from __future__ import annotations

__all__ = ["COMMIT_TIMEOUT", "KEEP_BATCH", "DeliveryInbox"]

import asyncio
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import StoreUnavailable
from bot.store.database import connect, to_utc
from bot.store.tables import alert_deliveries

KEEP_BATCH = 200  # deliveries per group commit
COMMIT_TIMEOUT = 5.0  # seconds a commit of kept deliveries may take before it is abandoned


class DeliveryInbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[int]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def keep(self, source: str, kind: str, body: bytes, received_at: datetime) -> int:
        """Committed when this returns. Deliveries arriving while a commit is under way
        are committed together in the next one (group commit): in a flood each webhook
        still waits for its own durable commit, but the database does a few, not one each.

        The commits run in a task of their own: a caller that stops waiting (its answer
        was due) leaves them running for everyone else, and its row may still be kept.
        """
        row = {"source": source, "kind": kind, "body": body, "received_at": to_utc(received_at)}
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_retrieved)
        self._waiting.append((row, done))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_waiting(), name="inbox-commit")
        return await asyncio.shield(done)

    async def close(self) -> None:
        """Let the commits under way finish (or fail) before the engine goes."""
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)

    async def _commit_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:KEEP_BATCH], self._waiting[KEEP_BATCH:]
                await self._commit(batch)
        finally:
            self._committer = None
            for _, waiting in self._waiting:  # cancelled mid-way: nobody left to commit
                if not waiting.done():
                    waiting.set_exception(StoreUnavailable("not stored: the commit was cut off"))
            self._waiting = []

    async def _commit(self, batch: list[tuple[dict[str, Any], asyncio.Future[int]]]) -> None:
        try:
            # A database that stops answering (packets dropped, not refused) must not hold
            # every later delivery behind this batch.
            async with asyncio.timeout(COMMIT_TIMEOUT), connect(self._engine, begin=True) as conn:
                result = await conn.execute(
                    sa.insert(alert_deliveries).returning(
                        alert_deliveries.c.id, sort_by_parameter_order=True
                    ),
                    [row for row, _ in batch],
                )
                ids = [int(i) for i in result.scalars()]
        except BaseException as exc:  # each waiting caller gets the failure as its own
            failure = (
                StoreUnavailable(f"not stored: no answer from the database in {COMMIT_TIMEOUT} s")
                if isinstance(exc, TimeoutError)
                else exc
            )
            for _, done in batch:
                if not done.done():
                    done.set_exception(failure)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for (_, done), delivery_id in zip(batch, ids, strict=True):
            if not done.done():
                done.set_result(delivery_id)


def _retrieved(future: asyncio.Future[int]) -> None:
    """A caller that stopped waiting never reads its failure: mark it read, not lost."""
    if not future.cancelled():
        future.exception()
