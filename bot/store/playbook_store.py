"""`PlaybookStore` on SQLAlchemy: runs, their steps, and the one-active-run-per-service
rule, kept by a unique partial index so it holds across processes."""

from __future__ import annotations

__all__ = ["SqlPlaybookStore"]

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.playbooks.ports import StoredRun
from bot.store.database import connect, from_utc, to_utc
from bot.store.tables import playbook_runs, playbook_steps

ACTIVE = ("planned", "awaiting_approval", "running")


class SqlPlaybookStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_run(
        self,
        *,
        playbook: str,
        service: str,
        state: str,
        plan: dict[str, Any],
        requested_by: str,
        incident_number: int | None,
        channel_id: str | None,
        at: datetime,
    ) -> StoredRun | None:
        try:
            async with connect(self._engine, begin=True) as conn:
                row = (
                    (
                        await conn.execute(
                            sa.insert(playbook_runs)
                            .values(
                                playbook=playbook,
                                service=service,
                                state=state,
                                plan=plan,
                                requested_by=requested_by,
                                incident_number=incident_number,
                                channel_id=channel_id,
                                created_at=to_utc(at),
                            )
                            .returning(*playbook_runs.columns)
                        )
                    )
                    .mappings()
                    .one()
                )
        except sa.exc.IntegrityError:
            return None  # the service has an active run (the unique partial index)
        return _run(row)

    async def active_run(self, service: str) -> StoredRun | None:
        query = sa.select(playbook_runs).where(
            playbook_runs.c.service == service, playbook_runs.c.state.in_(ACTIVE)
        )
        return await self._one(query)

    async def run(self, run_id: int) -> StoredRun | None:
        return await self._one(sa.select(playbook_runs).where(playbook_runs.c.id == run_id))

    async def move(
        self,
        run_id: int,
        from_states: Sequence[str],
        to: str,
        at: datetime,
        *,
        by: str | None = None,
    ) -> StoredRun | None:
        values: dict[str, Any] = {"state": to}
        if to == "running":
            values["started_at"] = sa.func.coalesce(playbook_runs.c.started_at, to_utc(at))
        if to in ("cancelled",):
            values["finished_at"] = to_utc(at)
        if by is not None:
            values["approved_by"] = by
        async with connect(self._engine, begin=True) as conn:
            row = (
                (
                    await conn.execute(
                        sa.update(playbook_runs)
                        .where(playbook_runs.c.id == run_id, playbook_runs.c.state.in_(from_states))
                        .values(**values)
                        .returning(*playbook_runs.columns)
                    )
                )
                .mappings()
                .first()
            )
        return _run(row) if row else None

    async def record_step(
        self,
        run_id: int,
        index: int,
        kind: str,
        state: str,
        detail: str,
        seconds: float | None,
        at: datetime,
    ) -> None:
        values = {"kind": kind, "state": state, "detail": detail[:1000], "seconds": seconds}
        async with connect(self._engine, begin=True) as conn:
            updated = await conn.execute(
                sa.update(playbook_steps)
                .where(playbook_steps.c.run_id == run_id, playbook_steps.c.index == index)
                .values(**values, updated_at=to_utc(at))
            )
            if not updated.rowcount:
                await conn.execute(
                    sa.insert(playbook_steps).values(
                        run_id=run_id, index=index, updated_at=to_utc(at), **values
                    )
                )

    async def finish(self, run_id: int, state: str, result: str, at: datetime) -> None:
        async with connect(self._engine, begin=True) as conn:
            await conn.execute(
                sa.update(playbook_runs)
                .where(playbook_runs.c.id == run_id)
                .values(state=state, result=result, finished_at=to_utc(at))
            )

    async def recent(self, playbook: str, limit: int) -> Sequence[StoredRun]:
        query = (
            sa.select(playbook_runs)
            .where(playbook_runs.c.playbook == playbook)
            .order_by(playbook_runs.c.id.desc())
            .limit(limit)
        )
        async with connect(self._engine) as conn:
            return [_run(r) for r in (await conn.execute(query)).mappings()]

    async def _one(self, query: sa.Select[Any]) -> StoredRun | None:
        async with connect(self._engine) as conn:
            row = (await conn.execute(query)).mappings().first()
        return _run(row) if row else None


def _run(row: Mapping[str, Any] | sa.RowMapping) -> StoredRun:
    return StoredRun(
        id=row["id"],
        playbook=row["playbook"],
        service=row["service"],
        state=row["state"],
        plan=dict(row["plan"]),
        requested_by=row["requested_by"],
        incident_number=row["incident_number"],
        channel_id=row["channel_id"],
        approved_by=row["approved_by"],
        result=row["result"],
        started=row["started_at"] is not None,
        created_at=from_utc(row["created_at"]),
        seconds=(row["finished_at"] - row["started_at"]).total_seconds()
        if row["started_at"] and row["finished_at"]
        else None,
    )
