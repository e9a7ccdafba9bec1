"""`AlertStore` on SQLAlchemy: the delivery inbox and the alert groups."""

from __future__ import annotations

__all__ = ["SqlAlertStore"]

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.alerts.model import AlertGroup, AlertSignal, Delivery, GroupStatus
from bot.store.database import connect, from_utc, to_utc
from bot.store.tables import alert_deliveries, alert_groups
from bot.types import Clock


class _SqlAlertTransaction:
    def __init__(self, conn: AsyncConnection, clock_now: datetime) -> None:
        self._conn = conn
        self._now = clock_now

    async def claim_deliveries(self, limit: int) -> Sequence[Delivery]:
        # SKIP LOCKED: two bot processes drain the same inbox without taking the same row.
        query = (
            sa.select(alert_deliveries)
            .where(alert_deliveries.c.processed_at.is_(None))
            .order_by(alert_deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = (await self._conn.execute(query)).mappings().all()
        return [
            Delivery(
                id=row["id"],
                source=row["source"],
                kind=row["kind"],
                body=bytes(row["body"]),
                received_at=from_utc(row["received_at"]),
            )
            for row in rows
        ]

    async def finish_delivery(self, delivery_id: int, outcome: str, error: str = "") -> None:
        await self._conn.execute(
            sa.update(alert_deliveries)
            .where(alert_deliveries.c.id == delivery_id)
            .values(processed_at=to_utc(self._now), outcome=outcome, error=error or None)
        )

    async def open_group(self, key: str) -> AlertGroup | None:
        query = (
            sa.select(alert_groups)
            .where(alert_groups.c.key == key, alert_groups.c.status == GroupStatus.FIRING.value)
            .with_for_update()
        )
        row = (await self._conn.execute(query)).mappings().first()
        return _group(dict(row)) if row else None

    async def insert_group(self, signal: AlertSignal) -> AlertGroup:
        values = {
            "key": signal.key,
            "status": GroupStatus.FIRING.value,
            "title": signal.title,
            "level": signal.level,
            "project": signal.project,
            "environment": signal.environment,
            "rule": signal.rule,
            "url": signal.url,
            "source": signal.source,
            "count": 1,
            "first_seen": to_utc(signal.occurred_at),
            "last_seen": to_utc(signal.occurred_at),
        }
        result = await self._conn.execute(
            sa.insert(alert_groups).values(**values).returning(*alert_groups.columns)
        )
        return _group(dict(result.mappings().one()))

    async def count_repeat(self, group: AlertGroup, at: datetime) -> AlertGroup:
        # Deliveries can arrive out of order: last_seen never goes back.
        return await self._change(
            group, count=alert_groups.c.count + 1, last_seen=to_utc(max(group.last_seen, at))
        )

    async def resolve_group(self, group: AlertGroup, at: datetime) -> AlertGroup:
        return await self._change(group, status=GroupStatus.RESOLVED.value, resolved_at=to_utc(at))

    async def _change(self, group: AlertGroup, **values: Any) -> AlertGroup:
        result = await self._conn.execute(
            sa.update(alert_groups)
            .where(alert_groups.c.id == group.id)
            .values(**values)
            .returning(*alert_groups.columns)
        )
        return _group(dict(result.mappings().one()))


class SqlAlertStore:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def keep(self, source: str, kind: str, body: bytes, received_at: datetime) -> int:
        async with connect(self._engine, begin=True) as conn:
            result = await conn.execute(
                sa.insert(alert_deliveries)
                .values(source=source, kind=kind, body=body, received_at=to_utc(received_at))
                .returning(alert_deliveries.c.id)
            )
            return int(result.scalar_one())

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqlAlertTransaction]:
        async with connect(self._engine, begin=True) as conn:
            yield _SqlAlertTransaction(conn, self._clock())

    async def firing(self, limit: int) -> Sequence[AlertGroup]:
        query = (
            sa.select(alert_groups)
            .where(alert_groups.c.status == GroupStatus.FIRING.value)
            .order_by(alert_groups.c.last_seen.desc())
            .limit(limit)
        )
        async with connect(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_group(dict(row)) for row in rows]

    async def pending_count(self) -> int:
        query = sa.select(sa.func.count()).where(alert_deliveries.c.processed_at.is_(None))
        async with connect(self._engine) as conn:
            return int((await conn.execute(query)).scalar_one())


def _group(row: Mapping[str, Any]) -> AlertGroup:
    values = dict(row)
    values["status"] = GroupStatus(values["status"])
    for name in ("first_seen", "last_seen", "resolved_at"):
        values[name] = from_utc(values[name])
    return AlertGroup(**values)
