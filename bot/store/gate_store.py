"""`GateStore` on SQLAlchemy: the launch gate's evidence and evaluations, sign-offs and
exceptions (each change also in `audit_log`), and what the gate reads of incidents,
follow-ups and playbook runs."""

from __future__ import annotations

__all__ = ["SqlGateStore"]

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.gate.judge import DrillRecord, IncidentFacts
from bot.gate.model import (
    Evaluation,
    Evidence,
    GateException,
    SignOff,
    Verdict,
    evaluation_from_json,
)
from bot.incidents.model import EventKind
from bot.playbooks.model import RunState
from bot.store.database import connect, from_utc, to_utc
from bot.store.tables import (
    audit_log,
    followups,
    gate_evaluations,
    gate_evidence,
    gate_exceptions,
    gate_signoffs,
    incidents,
    playbook_runs,
    timeline_events,
)
from bot.types import UserId

_SERIOUS = ("sev1", "sev2")
_FINISHED = tuple(
    s.value for s in (RunState.DONE, RunState.FAILED, RunState.NOT_CONFIRMED, RunState.INTERRUPTED)
)


class SqlGateStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(self, evidence: Sequence[Evidence]) -> None:
        if not evidence:
            return
        async with connect(self._engine, begin=True) as conn:
            await conn.execute(
                sa.insert(gate_evidence),
                [
                    {
                        "item": e.item,
                        "subject": e.subject,
                        "verdict": e.verdict.value,
                        "reason": e.reason,
                        "source": e.source,
                        "seen": dict(e.seen),
                        "observed_at": to_utc(e.observed_at),
                        "expires_at": to_utc(e.expires_at),
                    }
                    for e in evidence
                ],
            )

    async def latest_evidence(self, item: str) -> Sequence[Evidence]:
        newest = (
            sa.select(gate_evidence.c.subject, sa.func.max(gate_evidence.c.id).label("id"))
            .where(gate_evidence.c.item == item)
            .group_by(gate_evidence.c.subject)
            .subquery()
        )
        query = (
            sa.select(gate_evidence)
            .join(newest, gate_evidence.c.id == newest.c.id)
            .order_by(gate_evidence.c.subject)
        )
        async with connect(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            Evidence(
                r["item"],
                r["subject"],
                Verdict(r["verdict"]),
                r["reason"],
                from_utc(r["observed_at"]),
                from_utc(r["expires_at"]),
                r["source"],
                r["seen"],
            )
            for r in rows
        ]

    async def record_evaluation(self, evaluation: Evaluation, by: UserId) -> str | None:
        async with connect(self._engine, begin=True) as conn:
            previous = (
                await conn.execute(
                    sa.select(gate_evaluations.c.verdict)
                    .where(gate_evaluations.c.phase == evaluation.phase)
                    .order_by(gate_evaluations.c.id.desc())
                    .limit(1)
                )
            ).scalar()
            await conn.execute(
                sa.insert(gate_evaluations).values(
                    phase=evaluation.phase,
                    verdict=evaluation.verdict,
                    evaluated_at=to_utc(evaluation.evaluated_at),
                    evaluated_by=by,
                    result=evaluation.to_json(),
                )
            )
        return previous

    async def evaluations(self, phase: str, limit: int) -> Sequence[Evaluation]:
        async with connect(self._engine) as conn:
            docs = (
                await conn.execute(
                    sa.select(gate_evaluations.c.result)
                    .where(gate_evaluations.c.phase == phase)
                    .order_by(gate_evaluations.c.id.desc())
                    .limit(limit)
                )
            ).scalars()
            return [evaluation_from_json(doc) for doc in reversed(list(docs))]

    async def sign(self, signoff: SignOff) -> SignOff:
        async with connect(self._engine, begin=True) as conn:
            new_id = (
                await conn.execute(
                    sa.insert(gate_signoffs)
                    .values(
                        phase=signoff.phase,
                        item=signoff.item,
                        note=signoff.note,
                        signed_by=signoff.signed_by,
                        signed_at=to_utc(signoff.signed_at),
                        expires_at=to_utc(signoff.expires_at),
                    )
                    .returning(gate_signoffs.c.id)
                )
            ).scalar_one()
            await _audit(
                conn,
                signoff.signed_at,
                signoff.signed_by,
                "gate_sign",
                f"{signoff.phase}/{signoff.item}",
                {"note": signoff.note, "expires_at": signoff.expires_at.isoformat()},
            )
        return SignOff(new_id, *_fields(signoff))

    async def unsign(self, phase: str, item: str, by: UserId, at: datetime) -> int:
        async with connect(self._engine, begin=True) as conn:
            result = await conn.execute(
                sa.update(gate_signoffs)
                .where(
                    gate_signoffs.c.phase == phase,
                    gate_signoffs.c.item == item,
                    gate_signoffs.c.withdrawn_at.is_(None),
                )
                .values(withdrawn_by=by, withdrawn_at=to_utc(at))
            )
            if result.rowcount:
                await _audit(conn, at, by, "gate_unsign", f"{phase}/{item}", {})
        return int(result.rowcount)

    async def signoffs(self, now: datetime) -> Mapping[tuple[str, str], SignOff]:
        query = (
            sa.select(gate_signoffs)
            .where(gate_signoffs.c.withdrawn_at.is_(None))
            .order_by(gate_signoffs.c.id)
        )
        async with connect(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return {
            (r["phase"], r["item"]): SignOff(
                r["id"],
                r["phase"],
                r["item"],
                r["note"],
                r["signed_by"],
                from_utc(r["signed_at"]),
                from_utc(r["expires_at"]),
            )
            for r in rows  # oldest first: the newest of each (phase, item) is kept
        }

    async def add_exception(self, exception: GateException) -> GateException:
        async with connect(self._engine, begin=True) as conn:
            new_id = (
                await conn.execute(
                    sa.insert(gate_exceptions)
                    .values(
                        phase=exception.phase,
                        items=list(exception.items),
                        reason=exception.reason,
                        recorded_by=exception.recorded_by,
                        recorded_at=to_utc(exception.recorded_at),
                        expires_at=to_utc(exception.expires_at),
                    )
                    .returning(gate_exceptions.c.id)
                )
            ).scalar_one()
            await _audit(
                conn,
                exception.recorded_at,
                exception.recorded_by,
                "gate_exception",
                exception.phase,
                exception.to_json(),
            )
        return GateException(new_id, *_fields(exception))

    async def withdraw_exceptions(self, phase: str, by: UserId, at: datetime) -> int:
        async with connect(self._engine, begin=True) as conn:
            result = await conn.execute(
                sa.update(gate_exceptions)
                .where(gate_exceptions.c.phase == phase, gate_exceptions.c.withdrawn_at.is_(None))
                .values(withdrawn_by=by, withdrawn_at=to_utc(at))
            )
            if result.rowcount:
                await _audit(conn, at, by, "gate_exception_withdrawn", phase, {})
        return int(result.rowcount)

    async def exceptions(self, now: datetime) -> Sequence[GateException]:
        query = (
            sa.select(gate_exceptions)
            .where(
                gate_exceptions.c.withdrawn_at.is_(None),
                gate_exceptions.c.expires_at > to_utc(now),
            )
            .order_by(gate_exceptions.c.id)
        )
        async with connect(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            GateException(
                r["id"],
                r["phase"],
                tuple(r["items"]),
                r["reason"],
                r["recorded_by"],
                from_utc(r["recorded_at"]),
                from_utc(r["expires_at"]),
            )
            for r in rows
        ]

    async def incident_facts(self, resolved_since: datetime) -> IncidentFacts:
        serious = incidents.c.severity.in_(_SERIOUS)
        exported = sa.exists().where(
            timeline_events.c.incident_number == incidents.c.number,
            timeline_events.c.kind == EventKind.POSTMORTEM.value,
        )
        async with connect(self._engine) as conn:
            open_rows = await conn.execute(
                sa.select(incidents.c.number, incidents.c.severity)
                .where(serious, incidents.c.resolved_at.is_(None))
                .order_by(incidents.c.number)
            )
            opened = [(r.number, r.severity) for r in open_rows]
            missing = (
                await conn.execute(
                    sa.select(incidents.c.number)
                    .where(
                        serious,
                        incidents.c.resolved_at >= to_utc(resolved_since),
                        ~exported,
                    )
                    .order_by(incidents.c.number)
                )
            ).scalars()
            without = list(missing)
            blocking = await conn.execute(
                sa.select(followups.c.id, followups.c.incident_number, followups.c.text)
                .where(followups.c.blocking, followups.c.done_at.is_(None))
                .order_by(followups.c.id)
            )
            return IncidentFacts(
                opened, without, [(r.id, r.incident_number, r.text) for r in blocking]
            )

    async def drills(
        self, playbook: str, services: Sequence[str]
    ) -> tuple[DrillRecord | None, DrillRecord | None]:
        runs = sa.select(playbook_runs).where(
            playbook_runs.c.playbook == playbook,
            playbook_runs.c.service.in_(list(services)),
            playbook_runs.c.finished_at.is_not(None),
        )
        newest = playbook_runs.c.finished_at.desc(), playbook_runs.c.id.desc()
        async with connect(self._engine) as conn:
            passed = (
                (
                    await conn.execute(
                        runs.where(playbook_runs.c.state == RunState.DONE.value)
                        .order_by(*newest)
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
            latest = (
                (
                    await conn.execute(
                        runs.where(playbook_runs.c.state.in_(_FINISHED)).order_by(*newest).limit(1)
                    )
                )
                .mappings()
                .first()
            )
        return _drill(passed), _drill(latest)


def _drill(row: Any) -> DrillRecord | None:
    if row is None:
        return None
    finished, started = from_utc(row["finished_at"]), from_utc(row["started_at"])
    return DrillRecord(
        row["id"],
        row["service"],
        row["state"],
        row["requested_by"],
        finished,
        (finished - started).total_seconds() if started else None,
        row["result"],
    )


def _fields(record: SignOff | GateException) -> tuple[Any, ...]:
    """A record's fields after its id."""
    return tuple(getattr(record, name) for name in record.__dataclass_fields__ if name != "id")


async def _audit(
    conn: AsyncConnection, at: datetime, actor: UserId, action: str, subject: str, detail: Any
) -> None:
    await conn.execute(
        sa.insert(audit_log).values(
            at=to_utc(at), actor=actor, action=action, subject=subject[:80], detail=detail
        )
    )
