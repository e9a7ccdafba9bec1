"""`StatusStore` on SQLAlchemy: public incidents and their updates, each component state
published (the history uptime is computed from), maintenance, and drafts decided once."""

from __future__ import annotations

__all__ = ["SqlStatusStore"]

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.incidents.model import TimelineEvent
from bot.status.model import (
    ComponentChange,
    ComponentState,
    Draft,
    Maintenance,
    Phase,
    PublicIncident,
    PublicUpdate,
    impact_of,
)
from bot.status.ports import PageData
from bot.store.database import connect, from_utc, to_utc
from bot.store.incident_store import append_event
from bot.store.tables import (
    status_component_changes,
    status_drafts,
    status_incidents,
    status_maintenances,
    status_updates,
)
from bot.types import JSONValue, UserId


class SqlStatusStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def watch(self, components: Sequence[str], at: datetime) -> None:
        async with connect(self._engine, begin=True) as conn:
            known = set(
                (
                    await conn.execute(sa.select(status_component_changes.c.component).distinct())
                ).scalars()
            )
            new = [c for c in components if c not in known]
            if new:
                await conn.execute(
                    sa.insert(status_component_changes),
                    [
                        {
                            "component": c,
                            "state": ComponentState.OPERATIONAL.value,
                            "at": to_utc(at),
                            "source": "watched",
                            "created_by": "lucia",
                        }
                        for c in new
                    ],
                )

    async def page(self, since: datetime) -> PageData:
        async with connect(self._engine) as conn:
            return PageData(
                changes=await _changes(conn, since),
                incidents=await _incidents(conn, since),
                maintenances=await _maintenances(conn, since),
                updated_at=await _updated_at(conn),
            )

    async def open_incident_for(self, number: int) -> PublicIncident | None:
        async with connect(self._engine) as conn:
            row = (
                (
                    await conn.execute(
                        sa.select(status_incidents)
                        .where(
                            status_incidents.c.incident_number == number,
                            status_incidents.c.resolved_at.is_(None),
                        )
                        .order_by(status_incidents.c.id.desc())
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            return _incident(row, await _updates(conn, [row["id"]]))

    async def add_draft(
        self,
        action: str,
        payload: Mapping[str, JSONValue],
        number: int | None,
        by: UserId,
        at: datetime,
    ) -> Draft:
        async with connect(self._engine, begin=True) as conn:
            draft_id = (
                await conn.execute(
                    sa.insert(status_drafts)
                    .values(
                        action=action,
                        payload=dict(payload),
                        incident_number=number,
                        created_by=by,
                        created_at=to_utc(at),
                    )
                    .returning(status_drafts.c.id)
                )
            ).scalar_one()
        return Draft(draft_id, action, payload, by, at, number)

    async def draft(self, draft_id: int) -> Draft | None:
        async with connect(self._engine) as conn:
            row = (
                (
                    await conn.execute(
                        sa.select(status_drafts).where(
                            status_drafts.c.id == draft_id, status_drafts.c.outcome.is_(None)
                        )
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else _draft(row)

    async def take_draft(
        self, draft_id: int, outcome: str, by: UserId, at: datetime
    ) -> Draft | None:
        async with connect(self._engine, begin=True) as conn:
            row = (
                (
                    await conn.execute(
                        sa.update(status_drafts)
                        .where(status_drafts.c.id == draft_id, status_drafts.c.outcome.is_(None))
                        .values(outcome=outcome, decided_by=by, decided_at=to_utc(at))
                        .returning(*status_drafts.columns)
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else _draft(row)

    async def publish(
        self,
        *,
        incident_id: int | None,
        name: str,
        phase: Phase,
        body: str,
        components: Mapping[str, ComponentState],
        number: int | None,
        by: UserId,
        at: datetime,
        event: TimelineEvent | None,
    ) -> PublicIncident:
        states = {c: s.value for c, s in components.items()}
        resolved = to_utc(at) if phase is Phase.RESOLVED else None
        async with connect(self._engine, begin=True) as conn:
            if incident_id is None:
                incident_id = (
                    await conn.execute(
                        sa.insert(status_incidents)
                        .values(
                            name=name,
                            status=phase.value,
                            impact=impact_of(components.values()),
                            components=states,
                            incident_number=number,
                            created_by=by,
                            created_at=to_utc(at),
                            updated_at=to_utc(at),
                            resolved_at=resolved,
                        )
                        .returning(status_incidents.c.id)
                    )
                ).scalar_one()
            else:
                current = (
                    await conn.execute(
                        sa.select(status_incidents.c.components)
                        .where(status_incidents.c.id == incident_id)
                        .with_for_update()
                    )
                ).scalar_one()
                merged = {**current, **states}
                values: dict[str, Any] = {
                    "status": phase.value,
                    "components": merged,
                    "updated_at": to_utc(at),
                    "resolved_at": resolved,
                }
                if phase is not Phase.RESOLVED:  # a resolved incident keeps its impact
                    values["impact"] = impact_of(ComponentState(s) for s in merged.values())
                await conn.execute(
                    sa.update(status_incidents)
                    .where(status_incidents.c.id == incident_id)
                    .values(**values)
                )
            await conn.execute(
                sa.insert(status_updates).values(
                    status_incident_id=incident_id,
                    status=phase.value,
                    body=body,
                    components=states,
                    created_by=by,
                    created_at=to_utc(at),
                )
            )
            if states:
                await conn.execute(
                    sa.insert(status_component_changes),
                    [
                        {
                            "component": c,
                            "state": s,
                            "at": to_utc(at),
                            "source": f"status incident {incident_id}",
                            "created_by": by,
                        }
                        for c, s in states.items()
                    ],
                )
            if event is not None:
                await append_event(conn, event)
            row = (
                (
                    await conn.execute(
                        sa.select(status_incidents).where(status_incidents.c.id == incident_id)
                    )
                )
                .mappings()
                .one()
            )
            return _incident(row, await _updates(conn, [incident_id]))

    async def add_maintenance(self, maintenance: Maintenance) -> Maintenance:
        async with connect(self._engine, begin=True) as conn:
            new_id = (
                await conn.execute(
                    sa.insert(status_maintenances)
                    .values(
                        name=maintenance.name,
                        body=maintenance.body,
                        components=list(maintenance.components),
                        starts_at=to_utc(maintenance.starts_at),
                        ends_at=to_utc(maintenance.ends_at),
                        created_by=maintenance.created_by,
                        created_at=to_utc(maintenance.created_at),
                    )
                    .returning(status_maintenances.c.id)
                )
            ).scalar_one()
        return Maintenance(
            new_id,
            maintenance.name,
            maintenance.body,
            maintenance.components,
            maintenance.starts_at,
            maintenance.ends_at,
            maintenance.created_at,
            maintenance.created_by,
        )


def _draft(row: Any) -> Draft:
    return Draft(
        row["id"],
        row["action"],
        row["payload"],
        row["created_by"],
        from_utc(row["created_at"]),
        row["incident_number"],
    )


async def _changes(conn: AsyncConnection, since: datetime) -> dict[str, list[ComponentChange]]:
    """Each component's changes in the window, and the last one before it (its state when
    the window opens)."""
    table = status_component_changes
    before = (
        sa.select(table.c.component, sa.func.max(table.c.id).label("id"))
        .where(table.c.at < to_utc(since))
        .group_by(table.c.component)
        .subquery()
    )
    rows = await conn.execute(
        sa.select(table)
        .where(sa.or_(table.c.at >= to_utc(since), table.c.id.in_(sa.select(before.c.id))))
        .order_by(table.c.at, table.c.id)
    )
    found: dict[str, list[ComponentChange]] = defaultdict(list)
    for row in rows.mappings():
        at = from_utc(row["at"])
        found[row["component"]].append(
            ComponentChange(row["component"], ComponentState(row["state"]), max(at, since))
        )
    return dict(found)


async def _incidents(conn: AsyncConnection, since: datetime) -> list[PublicIncident]:
    rows = (
        (
            await conn.execute(
                sa.select(status_incidents)
                .where(
                    sa.or_(
                        status_incidents.c.created_at >= to_utc(since),
                        status_incidents.c.resolved_at.is_(None),
                    )
                )
                .order_by(status_incidents.c.created_at.desc(), status_incidents.c.id.desc())
            )
        )
        .mappings()
        .all()
    )
    updates = await _updates(conn, [r["id"] for r in rows])
    return [_incident(r, updates) for r in rows]


async def _updates(
    conn: AsyncConnection, incident_ids: Sequence[int]
) -> dict[int, list[PublicUpdate]]:
    if not incident_ids:
        return {}
    rows = await conn.execute(
        sa.select(status_updates)
        .where(status_updates.c.status_incident_id.in_(list(incident_ids)))
        .order_by(status_updates.c.created_at.desc(), status_updates.c.id.desc())
    )
    found: dict[int, list[PublicUpdate]] = defaultdict(list)
    for r in rows.mappings():
        found[r["status_incident_id"]].append(
            PublicUpdate(
                r["id"],
                r["status_incident_id"],
                Phase(r["status"]),
                r["body"],
                from_utc(r["created_at"]),
                r["created_by"],
                {c: ComponentState(s) for c, s in r["components"].items()},
            )
        )
    return found


def _incident(row: Any, updates: Mapping[int, list[PublicUpdate]]) -> PublicIncident:
    return PublicIncident(
        row["id"],
        row["name"],
        Phase(row["status"]),
        row["impact"],
        from_utc(row["created_at"]),
        from_utc(row["updated_at"]),
        from_utc(row["resolved_at"]),
        row["incident_number"],
        {c: ComponentState(s) for c, s in row["components"].items()},
        tuple(updates.get(row["id"], ())),
    )


async def _maintenances(conn: AsyncConnection, since: datetime) -> list[Maintenance]:
    rows = await conn.execute(
        sa.select(status_maintenances)
        .where(
            status_maintenances.c.cancelled_at.is_(None),
            status_maintenances.c.ends_at >= to_utc(since),
        )
        .order_by(status_maintenances.c.starts_at)
    )
    return [
        Maintenance(
            r["id"],
            r["name"],
            r["body"],
            tuple(r["components"]),
            from_utc(r["starts_at"]),
            from_utc(r["ends_at"]),
            from_utc(r["created_at"]),
            r["created_by"],
        )
        for r in rows.mappings()
    ]


async def _updated_at(conn: AsyncConnection) -> datetime | None:
    newest = sa.select(sa.func.max(status_updates.c.created_at)).scalar_subquery()
    planned = sa.select(sa.func.max(status_maintenances.c.created_at)).scalar_subquery()
    row = (await conn.execute(sa.select(newest, planned))).one()
    times = [from_utc(t) for t in row if t is not None]
    return max(times) if times else None
