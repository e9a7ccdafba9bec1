"""`PostmortemStore` on SQLAlchemy: an incident and everything about it in one read
(timeline, linked alerts, pages and deliveries, playbook runs and steps, follow-ups), and
the follow-ups themselves, and the launch-gate table's names for the people in it. Every
list has a total order, so an export is deterministic."""

from __future__ import annotations

__all__ = ["SqlPostmortemStore"]

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.incidents.model import EventKind, TimelineEvent
from bot.paging.model import PageStatus
from bot.postmortem.model import AlertLine, FollowUp, PageLine, PostmortemData, RunLine
from bot.store.database import connect, from_utc, to_utc
from bot.store.incident_store import append_event, incident_from_row, read_timeline
from bot.store.tables import (
    alert_groups,
    followups,
    incidents,
    owners,
    page_deliveries,
    pages,
    playbook_runs,
    playbook_steps,
)


class SqlPostmortemStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def gather(self, number: int) -> PostmortemData | None:
        async with connect(self._engine) as conn:
            row = (
                (await conn.execute(sa.select(incidents).where(incidents.c.number == number)))
                .mappings()
                .first()
            )
            if row is None:
                return None
            return PostmortemData(
                incident=incident_from_row(row),
                # An export doesn't list exports: each one of an incident reads the same.
                timeline=[
                    e
                    for e in await read_timeline(conn, number)
                    if e.kind is not EventKind.POSTMORTEM
                ],
                alerts=await _alerts(conn, number),
                pages=await _pages(conn, number),
                runs=await _runs(conn, number),
                followups=await _followups(conn, number),
                names=await _names(conn),
            )

    async def add_followup(
        self,
        number: int,
        text: str,
        owner: str | None,
        by: str,
        at: datetime,
        event: TimelineEvent,
        *,
        blocking: bool = False,
    ) -> FollowUp:
        async with connect(self._engine, begin=True) as conn:
            row = (
                (
                    await conn.execute(
                        sa.insert(followups)
                        .values(
                            incident_number=number,
                            text=text,
                            owner=owner,
                            blocking=blocking,
                            created_by=by,
                            created_at=to_utc(at),
                        )
                        .returning(*followups.columns)
                    )
                )
                .mappings()
                .one()
            )
            await append_event(conn, event)
        return _followup(row)

    async def append(self, event: TimelineEvent) -> None:
        async with connect(self._engine, begin=True) as conn:
            await append_event(conn, event)

    async def followups(self, number: int) -> list[FollowUp]:
        async with connect(self._engine) as conn:
            return await _followups(conn, number)

    async def followup(self, followup_id: int) -> tuple[int, FollowUp] | None:
        async with connect(self._engine) as conn:
            row = (
                (await conn.execute(sa.select(followups).where(followups.c.id == followup_id)))
                .mappings()
                .first()
            )
        return (row["incident_number"], _followup(row)) if row else None

    async def finish_followup(
        self, followup_id: int, by: str, at: datetime, event: TimelineEvent
    ) -> bool:
        """Mark it done once; False when it already was."""
        async with connect(self._engine, begin=True) as conn:
            done = await conn.execute(
                sa.update(followups)
                .where(followups.c.id == followup_id, followups.c.done_at.is_(None))
                .values(done_at=to_utc(at), done_by=by)
            )
            if not done.rowcount:
                return False
            await append_event(conn, event)
        return True


async def _alerts(conn: AsyncConnection, number: int) -> list[AlertLine]:
    query = (
        sa.select(alert_groups)
        .where(alert_groups.c.incident_number == number)
        .order_by(alert_groups.c.first_seen, alert_groups.c.id)
    )
    return [
        AlertLine(
            key=r["key"],
            title=r["title"],
            project=r["project"],
            environment=r["environment"],
            count=r["count"],
            notified=1 if r["notice_id"] is not None else 0,
            first_seen=from_utc(r["first_seen"]),
            url=r["url"],
        )
        for r in (await conn.execute(query)).mappings()
    ]


async def _pages(conn: AsyncConnection, number: int) -> list[PageLine]:
    rows = (
        (
            await conn.execute(
                sa.select(pages).where(pages.c.incident_number == number).order_by(pages.c.id)
            )
        )
        .mappings()
        .all()
    )
    if not rows:
        return []
    deliveries: defaultdict[int, list[tuple[str, bool, str]]] = defaultdict(list)
    first_result: dict[int, datetime] = {}
    query = (
        sa.select(page_deliveries)
        .where(page_deliveries.c.page_id.in_([r["id"] for r in rows]))
        .order_by(page_deliveries.c.page_id, page_deliveries.c.channel)
    )
    for d in (await conn.execute(query)).mappings():
        deliveries[d["page_id"]].append((d["channel"], bool(d["ok"]), d["detail"]))
        at = from_utc(d["at"])
        first_result[d["page_id"]] = min(first_result.get(d["page_id"], at), at)
    return [
        PageLine(
            person=r["name"],
            target=r["target"],
            created_at=from_utc(r["created_at"]),
            status=r["status"],
            channels=tuple(deliveries[r["id"]]),
            acknowledged_by=r["acknowledged_by"],
            attempted_at=first_result.get(r["id"]) or _tried_without_channels(r),
        )
        for r in rows
    ]


_TRIED = frozenset({PageStatus.SENT.value, PageStatus.FAILED.value})


def _tried_without_channels(row: sa.RowMapping) -> datetime | None:
    """A page tried with no channel to try (nobody to reach) went out when it finished."""
    return from_utc(row["finished_at"]) if row["status"] in _TRIED else None


async def _names(conn: AsyncConnection) -> dict[str, str]:
    """Slack user id → the name the launch-gate table gives them (the first role's, by role
    name, should two roles name one person differently)."""
    query = (
        sa.select(owners.c.slack_user, owners.c.name)
        .where(owners.c.slack_user.is_not(None), owners.c.name.is_not(None))
        .order_by(owners.c.role)
    )
    names: dict[str, str] = {}
    for r in (await conn.execute(query)).mappings():
        names.setdefault(r["slack_user"], r["name"])
    return names


async def _runs(conn: AsyncConnection, number: int) -> list[RunLine]:
    rows = (
        (
            await conn.execute(
                sa.select(playbook_runs)
                .where(playbook_runs.c.incident_number == number)
                .order_by(playbook_runs.c.id)
            )
        )
        .mappings()
        .all()
    )
    if not rows:
        return []
    steps: defaultdict[int, list[tuple[int, str, str, str, float | None]]] = defaultdict(list)
    query = (
        sa.select(playbook_steps)
        .where(playbook_steps.c.run_id.in_([r["id"] for r in rows]))
        .order_by(playbook_steps.c.run_id, playbook_steps.c.index)
    )
    for s in (await conn.execute(query)).mappings():
        steps[s["run_id"]].append((s["index"], s["kind"], s["state"], s["detail"], s["seconds"]))
    return [
        RunLine(
            id=r["id"],
            playbook=r["playbook"],
            service=r["service"],
            state=r["state"],
            requested_by=r["requested_by"],
            approved_by=r["approved_by"],
            result=r["result"],
            steps=tuple(steps[r["id"]]),
        )
        for r in rows
    ]


async def _followups(conn: AsyncConnection, number: int) -> list[FollowUp]:
    query = (
        sa.select(followups).where(followups.c.incident_number == number).order_by(followups.c.id)
    )
    return [_followup(r) for r in (await conn.execute(query)).mappings()]


def _followup(row: sa.RowMapping) -> FollowUp:
    return FollowUp(
        id=row["id"],
        text=row["text"],
        owner=row["owner"],
        created_by=row["created_by"],
        created_at=from_utc(row["created_at"]),
        done_at=from_utc(row["done_at"]),
        done_by=row["done_by"],
        blocking=row["blocking"],
    )
