"""`PlaybookStore` on SQLAlchemy: runs, their steps, and the one-active-run-per-service
rule, kept by a unique partial index so it holds across processes. A run being executed
carries a lease (`heartbeat_at`); marking one interrupted is conditional on that lease
having run out, so a live bot's run is never taken from it, and two sweeps mark it once."""

from __future__ import annotations

__all__ = ["SqlPlaybookStore"]

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.playbooks.model import StepState
from bot.playbooks.ports import StepRecord, StoredRun
from bot.store.database import connect, from_utc, to_utc
from bot.store.tables import playbook_runs, playbook_steps

ACTIVE = ("planned", "awaiting_approval", "running")
EXECUTING = ("running", "awaiting_approval")  # with started_at set: a bot holds its lease
# A run's outcome is stored once; a cancelled one gets its result from the bot that ran it.
FINISHABLE = ("running", "awaiting_approval", "cancelled")


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
            values["heartbeat_at"] = to_utc(at)  # its lease starts now
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

    async def record_step(self, run_id: int, step: StepRecord, at: datetime) -> None:
        values = {
            "kind": step.kind,
            "state": step.state.value,
            "detail": step.detail[:1000],
            "seconds": step.seconds,
            "deploy_id": step.deploy_id,
        }
        async with connect(self._engine, begin=True) as conn:
            updated = await conn.execute(
                sa.update(playbook_steps)
                .where(playbook_steps.c.run_id == run_id, playbook_steps.c.index == step.index)
                .values(**values, updated_at=to_utc(at))
            )
            if not updated.rowcount:
                await conn.execute(
                    sa.insert(playbook_steps).values(
                        run_id=run_id, index=step.index, updated_at=to_utc(at), **values
                    )
                )

    async def steps(self, run_id: int) -> Sequence[StepRecord]:
        query = (
            sa.select(playbook_steps)
            .where(playbook_steps.c.run_id == run_id)
            .order_by(playbook_steps.c.index)
        )
        async with connect(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            StepRecord(
                index=r["index"],
                kind=r["kind"],
                state=StepState(r["state"]),
                detail=r["detail"],
                seconds=r["seconds"],
                deploy_id=r["deploy_id"],
            )
            for r in rows
        ]

    async def finish(self, run_id: int, state: str, result: str, at: datetime) -> bool:
        async with connect(self._engine, begin=True) as conn:
            updated = await conn.execute(
                sa.update(playbook_runs)
                .where(playbook_runs.c.id == run_id, playbook_runs.c.state.in_(FINISHABLE))
                .values(state=state, result=result, finished_at=to_utc(at))
            )
        return bool(updated.rowcount)

    async def renew_lease(self, run_id: int, at: datetime) -> bool:
        async with connect(self._engine, begin=True) as conn:
            updated = await conn.execute(
                sa.update(playbook_runs)
                .where(playbook_runs.c.id == run_id, playbook_runs.c.state.in_(EXECUTING))
                .values(heartbeat_at=to_utc(at))
            )
        return bool(updated.rowcount)

    async def leased_runs(self) -> Sequence[StoredRun]:
        query = (
            sa.select(playbook_runs)
            .where(playbook_runs.c.state.in_(EXECUTING), playbook_runs.c.started_at.is_not(None))
            .order_by(playbook_runs.c.id)
        )
        async with connect(self._engine) as conn:
            return [_run(r) for r in (await conn.execute(query)).mappings()]

    async def interrupt(
        self, run_id: int, stale_before: datetime, result: str, at: datetime
    ) -> StoredRun | None:
        runs = playbook_runs.c
        last_sign = sa.func.coalesce(runs.heartbeat_at, runs.started_at)
        async with connect(self._engine, begin=True) as conn:
            row = (
                (
                    await conn.execute(
                        sa.update(playbook_runs)
                        .where(
                            runs.id == run_id,
                            runs.state.in_(EXECUTING),
                            runs.started_at.is_not(None),
                            last_sign < to_utc(stale_before),
                        )
                        .values(state="interrupted", result=result, finished_at=to_utc(at))
                        .returning(*playbook_runs.columns)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            await conn.execute(
                sa.update(playbook_steps)
                .where(
                    playbook_steps.c.run_id == run_id,
                    playbook_steps.c.state == StepState.RUNNING.value,
                )
                .values(
                    state=StepState.INTERRUPTED.value,
                    detail="the bot running it stopped: outcome unknown",
                    updated_at=to_utc(at),
                )
            )
        return _run(row)

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
        started_at=from_utc(row["started_at"]) if row["started_at"] else None,
        heartbeat_at=from_utc(row["heartbeat_at"]) if row["heartbeat_at"] else None,
    )
