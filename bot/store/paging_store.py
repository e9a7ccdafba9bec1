"""`PagingStore` on SQLAlchemy: escalations and pages, over the launch-gate table
(`launch_gate_table.py`).

Escalations and pages are timers as rows: claimed with `FOR UPDATE SKIP LOCKED` (two
processes never take the same row) and leased, so a process that dies mid-send leaves its
work to the next one after the lease. A page's lease is its `due_at` while it is
`sending`: the value the claim wrote is the holder's token, renewed and checked by value.
SQLite has no row locks: one process there.

`page_deliveries` keeps what each channel came to in `ok` and `detail` (one row per page
and channel, so a channel is attempted once): `ok` true is sent; otherwise `detail` is
`attempting` for a send under way, `unknown: …` for an attempt whose sender stopped before
the answer, or the failure's reason (notifiers' reasons never take either form).

It runs past 400 lines because escalations, pages and their deliveries share one
transaction type (`_SqlPagingTransaction`): splitting it would split the transaction.
"""

from __future__ import annotations

__all__ = ["SqlPagingStore"]

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.incidents.model import EventKind, Incident, TimelineEvent
from bot.paging.model import (
    Chain,
    Delivery,
    DeliveryStatus,
    Escalation,
    EscalationStatus,
    OwnerEntry,
    Page,
    PageStatus,
)
from bot.paging.ports import Contact, NewPage, Unstarted
from bot.store.database import connect, from_utc, insert_once, to_utc
from bot.store.incident_store import append_event, incident_from_row
from bot.store.launch_gate_table import SqlLaunchGateTable, contact_from_row, owner_from_row
from bot.store.tables import (
    escalations,
    incidents,
    owners,
    page_deliveries,
    pages,
    timeline_events,
)
from bot.vocabulary import SYSTEM_ACTOR

_UNANSWERED = incidents.c.acknowledged_at.is_(None) & incidents.c.resolved_at.is_(None)
_BY_ESCALATION = pages.c.created_by == SYSTEM_ACTOR  # pages a person sent go out regardless
GRACE = timedelta(seconds=10)  # an incident's channel is made within this, or never
_ATTEMPTING = "attempting"  # page_deliveries.detail of a send under way
_UNKNOWN = "unknown: "  # page_deliveries.detail prefix of an attempt never answered
_UNANSWERED_ATTEMPT = (page_deliveries.c.detail == _ATTEMPTING) | page_deliveries.c.detail.like(
    _UNKNOWN + "%"
)


class _SqlPagingTransaction:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def incidents_to_start(self, now: datetime, limit: int) -> Sequence[Unstarted]:
        # Once its channel exists (so the first page can link and mention there), or
        # after a grace period when it won't have one (no Slack, a failed create).
        ready = incidents.c.channel_id.is_not(None) | (
            incidents.c.created_at <= to_utc(now - GRACE)
        )
        query = (
            sa.select(incidents)
            .outerjoin(escalations, escalations.c.incident_number == incidents.c.number)
            .where(escalations.c.incident_number.is_(None), ready)
            .order_by(incidents.c.number)
            .limit(limit)
            .with_for_update(of=incidents, skip_locked=True)
        )
        found = [incident_from_row(r) for r in (await self._conn.execute(query)).mappings()]
        if not found:
            return []
        requested = await self._conn.execute(
            sa.select(timeline_events.c.incident_number, timeline_events.c.data).where(
                timeline_events.c.incident_number.in_([i.number for i in found]),
                timeline_events.c.kind == EventKind.PAGE_REQUESTED.value,
            )
        )
        roles: dict[int, tuple[str, ...]] = {}
        for number, data in requested:
            roles[number] = tuple(r for r in str(data.get("roles", "")).split(",") if r)
        return [Unstarted(i, roles.get(i.number, ())) for i in found]

    async def start(self, escalation: Escalation) -> bool:
        result = await self._conn.execute(
            insert_once(self._conn, escalations).values(
                incident_number=escalation.incident_number,
                chain=escalation.chain.to_json(),
                status=escalation.status.value,
                round=escalation.round,
                step=escalation.step,
                due_at=to_utc(escalation.due_at),
                started_at=to_utc(escalation.started_at),
            )
        )
        return bool(result.rowcount)  # False: another process started it first

    async def claim_due(self, now: datetime, limit: int) -> Sequence[tuple[Escalation, Incident]]:
        # Locking the incident row too: an acknowledgement being written right now makes
        # this skip the escalation, and the next tick sees it answered.
        query = (
            sa.select(escalations)
            .join(incidents, incidents.c.number == escalations.c.incident_number)
            .where(
                escalations.c.status == EscalationStatus.ACTIVE.value,
                escalations.c.due_at <= to_utc(now),
                _UNANSWERED,
            )
            .order_by(escalations.c.due_at)
            .limit(limit)
            .with_for_update(of=[escalations, incidents], skip_locked=True)
        )
        found = [_escalation(r) for r in (await self._conn.execute(query)).mappings()]
        return await self._with_incidents(found)

    async def _with_incidents(self, found: list[Escalation]) -> list[tuple[Escalation, Incident]]:
        if not found:
            return []
        numbers = [e.incident_number for e in found]
        rows = await self._conn.execute(sa.select(incidents).where(incidents.c.number.in_(numbers)))
        by_number = {r["number"]: incident_from_row(r) for r in rows.mappings()}
        return [(e, by_number[e.incident_number]) for e in found]

    async def incident(self, number: int) -> Incident | None:
        query = sa.select(incidents).where(incidents.c.number == number)
        row = (await self._conn.execute(query)).mappings().first()
        return incident_from_row(row) if row else None

    async def advance(self, escalation: Escalation) -> None:
        stopped = escalation.status is not EscalationStatus.ACTIVE
        await self._conn.execute(
            sa.update(escalations)
            .where(escalations.c.incident_number == escalation.incident_number)
            .values(
                chain=escalation.chain.to_json(),
                status=escalation.status.value,
                round=escalation.round,
                step=escalation.step,
                due_at=to_utc(escalation.due_at),
                started_at=to_utc(escalation.started_at),
            )
            .values(**({"stopped_at": to_utc(escalation.stopped_at)} if stopped else {}))
        )

    async def answered(self, limit: int) -> Sequence[tuple[Escalation, Incident]]:
        query = (
            sa.select(escalations)
            .join(incidents, incidents.c.number == escalations.c.incident_number)
            .where(escalations.c.status == EscalationStatus.ACTIVE.value, ~_UNANSWERED)
            .limit(limit)
            .with_for_update(of=escalations, skip_locked=True)
        )
        found = [_escalation(r) for r in (await self._conn.execute(query)).mappings()]
        return await self._with_incidents(found)

    async def revivable(self, limit: int) -> Sequence[tuple[Escalation, Incident]]:
        """Stopped or exhausted chains of incidents reopened since, and incidents with
        nothing to page whose severity changed since: either may need paging now."""

        def since(kind: EventKind, after: sa.ColumnElement[Any]) -> sa.Exists:
            return sa.exists().where(
                timeline_events.c.incident_number == escalations.c.incident_number,
                timeline_events.c.kind == kind.value,
                timeline_events.c.at > after,
            )

        # Exhausted too: a reopened incident pages again even if nobody answered before.
        ended = escalations.c.status.in_(
            [EscalationStatus.STOPPED.value, EscalationStatus.EXHAUSTED.value]
        )
        reopened = ended & since(EventKind.REOPENED, escalations.c.stopped_at)
        regraded = (escalations.c.status == EscalationStatus.NONE.value) & since(
            EventKind.SEVERITY_CHANGED, escalations.c.started_at
        )
        query = (
            sa.select(escalations)
            .join(incidents, incidents.c.number == escalations.c.incident_number)
            .where(reopened | regraded, _UNANSWERED)
            .limit(limit)
            .with_for_update(of=escalations, skip_locked=True)
        )
        found = [_escalation(r) for r in (await self._conn.execute(query)).mappings()]
        return await self._with_incidents(found)

    async def cancel_pages(self, incident_number: int, at: datetime) -> int:
        result = await self._conn.execute(
            sa.update(pages)
            .where(
                pages.c.incident_number == incident_number,
                pages.c.status == PageStatus.PENDING.value,
                _BY_ESCALATION,
            )
            .values(status=PageStatus.CANCELLED.value, finished_at=to_utc(at))
        )
        return int(result.rowcount)

    async def owner(self, role: str) -> OwnerEntry | None:
        row = (
            (await self._conn.execute(sa.select(owners).where(owners.c.role == role)))
            .mappings()
            .first()
        )
        return owner_from_row(row) if row else None

    async def last_paged(self, person: str, since: datetime) -> datetime | None:
        query = sa.select(sa.func.max(pages.c.planned_at)).where(
            pages.c.person == person,
            pages.c.planned_at >= to_utc(since),
            _BY_ESCALATION,
            pages.c.test.is_(False),  # a test page never holds a real one back
            pages.c.status != PageStatus.CANCELLED.value,
        )
        last = (await self._conn.execute(query)).scalar()
        return None if last is None else _as_datetime(from_utc(last))

    async def add_page(self, page: NewPage) -> Page:
        c = page.contact
        result = await self._conn.execute(
            sa.insert(pages)
            .values(
                incident_number=page.incident_number,
                target=page.target,
                person=page.person,
                name=c.name,
                slack_user=c.slack_user,
                email=c.email,
                phone=c.phone,
                push_topic=c.push_topic,
                message=page.message,
                urgent=page.urgent,
                test=page.test,
                status=page.status.value,
                due_at=to_utc(page.due_at),
                planned_at=to_utc(page.due_at),
                created_at=to_utc(page.created_at),
                created_by=page.created_by,
                finished_at=to_utc(page.created_at)
                if page.status is PageStatus.THROTTLED
                else None,
            )
            .returning(*pages.columns)
        )
        return _page(result.mappings().one())

    async def claim_pages(self, now: datetime, lease_until: datetime, limit: int) -> Sequence[Page]:
        pending = (pages.c.status == PageStatus.PENDING.value) & (
            pages.c.incident_number.is_(None) | ~_BY_ESCALATION | _UNANSWERED
        )
        left_mid_send = pages.c.status == PageStatus.SENDING.value  # its lease ran out
        query = (
            sa.select(pages)
            .outerjoin(incidents, incidents.c.number == pages.c.incident_number)
            .where(pending | left_mid_send, pages.c.due_at <= to_utc(now))
            .order_by(pages.c.due_at)
            .limit(limit)
            .with_for_update(of=pages, skip_locked=True)
        )
        claimed = [_page(r) for r in (await self._conn.execute(query)).mappings()]
        if claimed:
            # The lease: a sender that dies leaves the page due again after it.
            await self._conn.execute(
                sa.update(pages)
                .where(pages.c.id.in_([p.id for p in claimed]))
                .values(status=PageStatus.SENDING.value, due_at=to_utc(lease_until))
            )
        return claimed

    async def renew_page(self, page_id: int, held_until: datetime, until: datetime) -> bool:
        result = await self._conn.execute(
            sa.update(pages).where(_held(page_id, held_until)).values(due_at=to_utc(until))
        )
        return bool(result.rowcount)

    async def delivered(self, page_id: int) -> dict[str, Delivery]:
        query = sa.select(
            page_deliveries.c.channel, page_deliveries.c.ok, page_deliveries.c.detail
        ).where(page_deliveries.c.page_id == page_id)
        return {str(c): _delivery(bool(ok), str(d)) for c, ok, d in await self._conn.execute(query)}

    async def attempt(self, page_id: int, channel: str, at: datetime) -> bool:
        result = await self._conn.execute(
            insert_once(self._conn, page_deliveries).values(
                page_id=page_id, channel=channel, ok=False, detail=_ATTEMPTING, at=to_utc(at)
            )
        )
        return bool(result.rowcount)

    async def mark_unknown(self, page_id: int, channel: str, detail: str) -> bool:
        result = await self._conn.execute(
            sa.update(page_deliveries)
            .where(
                page_deliveries.c.page_id == page_id,
                page_deliveries.c.channel == channel,
                page_deliveries.c.detail == _ATTEMPTING,
            )
            .values(detail=_UNKNOWN + detail.removeprefix(_UNKNOWN)[:480])
        )
        return bool(result.rowcount)

    async def record_delivery(
        self, page_id: int, channel: str, ok: bool, detail: str, at: datetime
    ) -> None:
        values = {"ok": ok, "detail": detail[:500], "at": to_utc(at)}
        updated = await self._conn.execute(
            sa.update(page_deliveries)
            .where(
                page_deliveries.c.page_id == page_id,
                page_deliveries.c.channel == channel,
                _UNANSWERED_ATTEMPT,
            )
            .values(**values)
        )
        if not updated.rowcount:  # never attempted here (nothing to update): kept once
            await self._conn.execute(
                insert_once(self._conn, page_deliveries).values(
                    page_id=page_id, channel=channel, **values
                )
            )

    async def finish_page(
        self, page_id: int, status: PageStatus, at: datetime, held_until: datetime
    ) -> bool:
        result = await self._conn.execute(
            sa.update(pages)
            .where(_held(page_id, held_until))
            .values(status=status.value, finished_at=to_utc(at))
        )
        return bool(result.rowcount)

    async def acknowledge_page(self, page_id: int, by: str, at: datetime) -> Page | None:
        query = sa.select(pages).where(pages.c.id == page_id).with_for_update()
        row = (await self._conn.execute(query)).mappings().first()
        if row is None:
            return None
        page = _page(row)
        if page.acknowledged_by is None:
            await self._conn.execute(
                sa.update(pages)
                .where(pages.c.id == page_id)
                .values(acknowledged_by=by, acknowledged_at=to_utc(at))
            )
        return page

    async def append(self, event: TimelineEvent) -> None:
        await append_event(self._conn, event)


class SqlPagingStore(SqlLaunchGateTable):
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqlPagingTransaction]:
        async with connect(self._engine, begin=True) as conn:
            yield _SqlPagingTransaction(conn)

    async def latest_test_pages(
        self, contacts: Sequence[Contact]
    ) -> list[tuple[Page, dict[str, Delivery]] | None]:
        found: list[Page | None] = []
        async with connect(self._engine) as conn:
            for c in contacts:
                query = (
                    sa.select(pages)
                    .where(
                        pages.c.test.is_(True),
                        pages.c.person == c.person,
                        # Sent to these details: an old e-mail's test proves nothing of a new.
                        pages.c.slack_user.is_not_distinct_from(c.slack_user),
                        pages.c.email.is_not_distinct_from(c.email),
                        pages.c.push_topic.is_not_distinct_from(c.push_topic),
                    )
                    .order_by(pages.c.id.desc())
                    .limit(1)
                )
                row = (await conn.execute(query)).mappings().first()
                found.append(_page(row) if row else None)
            ids = [p.id for p in found if p is not None]
            records: dict[int, dict[str, Delivery]] = {i: {} for i in ids}
            if ids:
                query = (
                    sa.select(
                        page_deliveries.c.page_id,
                        page_deliveries.c.channel,
                        page_deliveries.c.ok,
                        page_deliveries.c.detail,
                    )
                    .where(page_deliveries.c.page_id.in_(ids))
                    .order_by(page_deliveries.c.id)
                )
                for page_id, channel, ok, detail in await conn.execute(query):
                    records[page_id][str(channel)] = _delivery(bool(ok), str(detail))
        return [(p, records[p.id]) if p is not None else None for p in found]


def _held(page_id: int, held_until: datetime) -> sa.ColumnElement[bool]:
    """The page, still being sent under the lease its holder knows (by its end)."""
    return (
        (pages.c.id == page_id)
        & (pages.c.status == PageStatus.SENDING.value)
        & (pages.c.due_at == to_utc(held_until))
    )


def _delivery(ok: bool, detail: str) -> Delivery:
    if ok:
        return Delivery(DeliveryStatus.SENT, detail)
    if detail == _ATTEMPTING:
        return Delivery(DeliveryStatus.ATTEMPTING, detail)
    if detail.startswith(_UNKNOWN):
        return Delivery(DeliveryStatus.UNKNOWN, detail)
    return Delivery(DeliveryStatus.FAILED, detail)


def _as_datetime(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value


def _escalation(row: Mapping[str, Any] | sa.RowMapping) -> Escalation:
    chain = row["chain"]
    return Escalation(
        incident_number=row["incident_number"],
        chain=Chain.from_json(json.loads(chain) if isinstance(chain, str) else chain),
        status=EscalationStatus(row["status"]),
        round=row["round"],
        step=row["step"],
        due_at=from_utc(row["due_at"]),
        started_at=from_utc(row["started_at"]),
    )


def _page(row: Mapping[str, Any] | sa.RowMapping) -> Page:
    return Page(
        id=row["id"],
        incident_number=row["incident_number"],
        target=row["target"],
        contact=contact_from_row(row),
        message=row["message"],
        urgent=row["urgent"],
        status=PageStatus(row["status"]),
        created_at=from_utc(row["created_at"]),
        created_by=row["created_by"],
        acknowledged_by=row["acknowledged_by"],
        acknowledged_at=from_utc(row["acknowledged_at"]),
        test=bool(row["test"]),
    )
