"""`IncidentStore` on SQLAlchemy: one `AsyncSession`-free connection per unit of work."""

from __future__ import annotations

__all__ = ["SqlIncidentStore", "append_event", "incident_from_row", "read_timeline"]

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.incidents.model import EventKind, Incident, Status, TimelineEvent
from bot.store.database import connect, from_utc, to_utc
from bot.store.tables import incident_counter, incidents, timeline_events
from bot.vocabulary import Severity

_COLUMNS = [c.name for c in incidents.columns]
_TIMES = ("created_at", "updated_at", "acknowledged_at", "mitigated_at", "resolved_at")


class _SqlTransaction:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def next_number(self) -> int:
        # The counter row is the lock: concurrent opens queue on it, and a rolled-back
        # open leaves no incident behind, so no number is ever handed out twice.
        result = await self._conn.execute(
            sa.update(incident_counter)
            .where(incident_counter.c.id == 1)
            .values(last_number=incident_counter.c.last_number + 1)
            .returning(incident_counter.c.last_number)
        )
        return int(result.scalar_one())

    async def get_for_update(self, number: int) -> Incident | None:
        row = (
            (
                await self._conn.execute(
                    sa.select(incidents).where(incidents.c.number == number).with_for_update()
                )
            )
            .mappings()
            .first()
        )
        return incident_from_row(row) if row else None

    async def opened_since(self, actor: str, since: datetime) -> Sequence[Incident]:
        query = sa.select(incidents).where(
            incidents.c.opened_by == actor, incidents.c.created_at >= to_utc(since)
        )
        return [incident_from_row(row) for row in (await self._conn.execute(query)).mappings()]

    async def insert(self, incident: Incident) -> None:
        await self._conn.execute(sa.insert(incidents).values(**_row(incident)))

    async def update(self, incident: Incident) -> None:
        values = _row(incident)
        del values["number"]
        await self._conn.execute(
            sa.update(incidents).where(incidents.c.number == incident.number).values(**values)
        )

    async def append(self, event: TimelineEvent) -> None:
        await append_event(self._conn, event)

    async def timeline(self, number: int) -> Sequence[TimelineEvent]:
        return await read_timeline(self._conn, number)


async def read_timeline(conn: AsyncConnection, number: int) -> list[TimelineEvent]:
    """An incident's timeline in order (time, then insertion)."""
    query = (
        sa.select(timeline_events)
        .where(timeline_events.c.incident_number == number)
        .order_by(timeline_events.c.at, timeline_events.c.id)
    )
    return [
        TimelineEvent(
            incident_number=row["incident_number"],
            at=from_utc(row["at"]),
            kind=EventKind(row["kind"]),
            actor=row["actor"],
            text=row["text"],
            data=row["data"],
        )
        for row in (await conn.execute(query)).mappings()
    ]


async def append_event(conn: AsyncConnection, event: TimelineEvent) -> None:
    """The one timeline writer: every store appends events through it."""
    await conn.execute(
        sa.insert(timeline_events).values(
            incident_number=event.incident_number,
            at=to_utc(event.at),
            kind=event.kind.value,
            actor=event.actor,
            text=event.text,
            data=dict(event.data),
        )
    )


class SqlIncidentStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqlTransaction]:
        async with connect(self._engine, begin=True) as conn:
            yield _SqlTransaction(conn)

    async def get(self, number: int) -> Incident | None:
        return await self._one(sa.select(incidents).where(incidents.c.number == number))

    async def find_by_channel(self, channel_id: str) -> Incident | None:
        return await self._one(sa.select(incidents).where(incidents.c.channel_id == channel_id))

    async def find_by_alert_group(self, alert_group_id: int) -> Incident | None:
        return await self._one(
            sa.select(incidents).where(incidents.c.alert_group_id == alert_group_id)
        )

    async def list(self, *, include_closed: bool, limit: int) -> Sequence[Incident]:
        query = sa.select(incidents).order_by(incidents.c.number.desc()).limit(limit)
        if not include_closed:
            query = query.where(incidents.c.status != Status.RESOLVED.value)
        async with connect(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [incident_from_row(row) for row in rows]

    async def timeline(self, number: int) -> Sequence[TimelineEvent]:
        async with connect(self._engine) as conn:
            return await read_timeline(conn, number)

    async def _one(self, query: sa.Select[Any]) -> Incident | None:
        async with connect(self._engine) as conn:
            row = (await conn.execute(query)).mappings().first()
        return incident_from_row(row) if row else None


def _row(incident: Incident) -> dict[str, Any]:
    values = {name: getattr(incident, name) for name in _COLUMNS}
    for name in _TIMES:
        values[name] = to_utc(values[name])
    values["severity"] = incident.severity.value
    values["status"] = incident.status.value
    return values


def incident_from_row(row: Mapping[str, Any] | sa.RowMapping) -> Incident:
    values = {name: row[name] for name in _COLUMNS}
    values["severity"] = Severity(values["severity"])
    values["status"] = Status(values["status"])
    for name in _TIMES:
        values[name] = from_utc(values[name])
    return Incident(**values)
