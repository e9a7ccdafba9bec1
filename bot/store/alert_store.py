"""`AlertStore` on SQLAlchemy: the alert groups and silences, over the delivery inbox
(`delivery_inbox.py`) and the notice rows (`notice_rows.py`)."""

from __future__ import annotations

__all__ = ["SqlAlertStore"]

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.alerts.model import (
    RESTORED_SOURCE,
    AlertGroup,
    AlertSignal,
    Delivery,
    GroupStatus,
    Silence,
)
from bot.errors import StoreConflict, StoreUnavailable
from bot.store.database import connect, from_utc, to_utc
from bot.store.delivery_inbox import DeliveryInbox
from bot.store.notice_rows import NoticeRows
from bot.store.tables import alert_deliveries, alert_groups, deployment, silences
from bot.types import Clock


class _SqlAlertTransaction(NoticeRows):
    def __init__(self, conn: AsyncConnection, clock_now: datetime) -> None:
        super().__init__(conn)
        self._now = clock_now

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        try:
            async with self._conn.begin_nested():
                yield
        except sa.exc.IntegrityError as exc:
            raise StoreConflict(type(exc.orig).__name__ if exc.orig else "conflict") from exc
        except sa.exc.DBAPIError as exc:
            if _refuses_the_value(exc):
                raise  # this delivery can never be stored as it is: marked failed
            # Anything else (a deadlock with another worker, a lost connection) is
            # transient: the whole batch rolls back and is read again on the next tick.
            raise StoreUnavailable(f"database refused the batch: {type(exc).__name__}") from exc

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

    async def apply_fold(self, fold_id: str) -> bool:
        result = await self._conn.execute(
            sa.update(deployment)
            .where(deployment.c.id == 1, deployment.c.last_fold.is_distinct_from(fold_id))
            .values(last_fold=fold_id)
        )
        return bool(result.rowcount)

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

    async def latest_group(self, key: str) -> AlertGroup | None:
        query = (
            sa.select(alert_groups)
            .where(alert_groups.c.key == key)
            .order_by(alert_groups.c.id.desc())
            .limit(1)
            .with_for_update()
        )
        row = (await self._conn.execute(query)).mappings().first()
        return _group(dict(row)) if row else None

    async def insert_group(self, signal: AlertSignal) -> AlertGroup:
        values = {
            "key": signal.key,
            "status": GroupStatus.FIRING.value,
            "title": signal.title,
            "level": _cap(signal.level, 16),
            "project": _cap(signal.project, 200),
            "environment": _cap(signal.environment, 200),
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

    async def count_repeat(self, group: AlertGroup, signal: AlertSignal) -> AlertGroup:
        # Deliveries can arrive out of order: last_seen never goes back.
        values: dict[str, Any] = {
            "count": alert_groups.c.count + 1,
            "last_seen": to_utc(max(group.last_seen, signal.occurred_at)),
        }
        if group.source == RESTORED_SOURCE:  # the first delivery that says what it is
            values |= {
                "title": signal.title,
                "level": _cap(signal.level, 16),
                "project": _cap(signal.project, 200),
                "source": signal.source,
            }
        elif _severity(signal.level) > _severity(group.level):
            values |= {"level": _cap(signal.level, 16), "title": signal.title}
        for name in ("environment", "rule", "url"):
            if not getattr(group, name) and getattr(signal, name):
                values[name] = _cap(getattr(signal, name), 200 if name == "environment" else 2000)
        return await self._change(group, **values)

    async def fire_again(self, previous: AlertGroup, count: int, at: datetime) -> AlertGroup:
        values = {
            name: getattr(previous, name)
            for name in ("key", "title", "level", "project", "environment", "rule", "url", "source")
        }
        result = await self._conn.execute(
            sa.insert(alert_groups)
            .values(
                **values,
                status=GroupStatus.FIRING.value,
                count=count,
                first_seen=to_utc(at),
                last_seen=to_utc(at),
            )
            .returning(*alert_groups.columns)
        )
        return _group(dict(result.mappings().one()))

    async def add_repeats(self, group: AlertGroup, repeats: int, at: datetime) -> AlertGroup:
        return await self._change(
            group, count=alert_groups.c.count + repeats, last_seen=to_utc(max(group.last_seen, at))
        )

    async def resolve_group(self, group: AlertGroup, at: datetime) -> AlertGroup:
        return await self._change(group, status=GroupStatus.RESOLVED.value, resolved_at=to_utc(at))

    async def active_silences(self, now: datetime) -> Sequence[Silence]:
        return await _active_silences(self._conn, now)

    async def mark_route(self, group: AlertGroup, severity: str, page: Sequence[str]) -> None:
        await self._change(
            group, route_state="pending", route_severity=severity, route_page=",".join(page)
        )

    async def claim_routes(
        self, now: datetime, stale_before: datetime, limit: int
    ) -> Sequence[AlertGroup]:
        waiting = (alert_groups.c.route_state == "pending") | (
            (alert_groups.c.route_state == "opening")
            & (alert_groups.c.noted_at < to_utc(stale_before))
        )
        query = (
            sa.select(alert_groups)
            .where(waiting)
            .order_by(alert_groups.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        groups = [_group(dict(r)) for r in (await self._conn.execute(query)).mappings()]
        if groups:  # the lease: noted_at is when this opener started
            await self._conn.execute(
                sa.update(alert_groups)
                .where(alert_groups.c.id.in_([g.id for g in groups]))
                .values(route_state="opening", noted_at=to_utc(now))
            )
        return groups

    async def route_done(self, group: AlertGroup, incident_number: int) -> None:
        await self._change(
            group, route_state="done", incident_number=incident_number, noted_at=None
        )

    async def noted(self, group: AlertGroup, at: datetime) -> None:
        await self._change(group, noted_at=to_utc(at), noted_count=group.count)

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
        self._inbox = DeliveryInbox(engine)

    async def keep(self, source: str, kind: str, body: bytes, received_at: datetime) -> int:
        return await self._inbox.keep(source, kind, body, received_at)

    async def close(self) -> None:
        await self._inbox.close()

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

    async def groups_of(self, notice_id: int) -> Sequence[AlertGroup]:
        query = (
            sa.select(alert_groups)
            .where(alert_groups.c.notice_id == notice_id)
            .order_by(alert_groups.c.status, alert_groups.c.last_seen.desc())
        )
        async with connect(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_group(dict(row)) for row in rows]

    async def group(self, group_id: int) -> AlertGroup | None:
        async with connect(self._engine) as conn:
            query = sa.select(alert_groups).where(alert_groups.c.id == group_id)
            row = (await conn.execute(query)).mappings().first()
        return _group(dict(row)) if row else None

    async def active_silences(self, now: datetime) -> Sequence[Silence]:
        async with connect(self._engine) as conn:
            return await _active_silences(conn, now)

    async def add_silence(
        self,
        group_id: int | None,
        project: str | None,
        reason: str,
        by: str,
        at: datetime,
        ends_at: datetime,
    ) -> Silence:
        async with connect(self._engine, begin=True) as conn:
            result = await conn.execute(
                sa.insert(silences)
                .values(
                    group_id=group_id,
                    project=project,
                    reason=reason,
                    created_by=by,
                    created_at=to_utc(at),
                    ends_at=to_utc(ends_at),
                )
                .returning(*silences.columns)
            )
            return _silence(dict(result.mappings().one()))

    async def lift_silence(self, silence_id: int, by: str, at: datetime) -> Silence | None:
        async with connect(self._engine, begin=True) as conn:
            result = await conn.execute(
                sa.update(silences)
                .where(
                    silences.c.id == silence_id,
                    silences.c.lifted_at.is_(None),
                    silences.c.ends_at > to_utc(at),
                )
                .values(lifted_at=to_utc(at), lifted_by=by)
                .returning(*silences.columns)
            )
            row = result.mappings().first()
        return _silence(dict(row)) if row else None

    async def pending_count(self) -> int:
        query = sa.select(sa.func.count()).where(alert_deliveries.c.processed_at.is_(None))
        async with connect(self._engine) as conn:
            return int((await conn.execute(query)).scalar_one())


def _group(row: Mapping[str, Any]) -> AlertGroup:
    values = dict(row)
    values["status"] = GroupStatus(values["status"])
    for name in ("first_seen", "last_seen", "resolved_at", "noted_at"):
        values[name] = from_utc(values[name])
    return AlertGroup(**values)


async def _active_silences(conn: AsyncConnection, now: datetime) -> list[Silence]:
    query = (
        sa.select(silences)
        .where(silences.c.lifted_at.is_(None), silences.c.ends_at > to_utc(now))
        .order_by(silences.c.id)
    )
    return [_silence(dict(r)) for r in (await conn.execute(query)).mappings()]


def _silence(row: dict[str, Any]) -> Silence:
    for name in ("created_at", "ends_at", "lifted_at"):
        row[name] = from_utc(row[name])
    return Silence(**row)


_SEVERITY = {"debug": 0, "info": 1, "warning": 2, "error": 3, "critical": 4, "fatal": 4}


def _severity(level: str) -> int:
    return _SEVERITY.get(level.lower(), 3)


def _cap(text: str, limit: int) -> str:
    """What fits the column: Sentry sends no promises about lengths."""
    return text[:limit]


def _refuses_the_value(exc: sa.exc.DBAPIError) -> bool:
    """SQLSTATE class 22 (data exception: too long, bad encoding…) on PostgreSQL; SQLite
    enforces no lengths, so its data errors are the same kind of refusal."""
    state = getattr(exc.orig, "sqlstate", None)
    return isinstance(exc, sa.exc.DataError) or (isinstance(state, str) and state[:2] == "22")
