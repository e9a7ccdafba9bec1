"""The alert notices' rows, inside an alert transaction: one shared Slack message per
project and environment, its due time doubling as the sender's lease."""

from __future__ import annotations

__all__ = ["NoticeRows"]

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.alerts.model import AlertGroup, Notice, NoticeStatus
from bot.errors import StoreUnavailable
from bot.store.database import from_utc, to_utc
from bot.store.tables import alert_groups, alert_notices


class NoticeRows:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def open_notice(self, group_by: str) -> Notice | None:
        return await self._one_notice(
            (alert_notices.c.group_by == group_by)
            & (alert_notices.c.status == NoticeStatus.OPEN.value)
        )

    async def notice(self, notice_id: int) -> Notice | None:
        return await self._one_notice(alert_notices.c.id == notice_id)

    async def _one_notice(self, where: sa.ColumnElement[bool]) -> Notice | None:
        query = sa.select(alert_notices).where(where).with_for_update()
        row = (await self._conn.execute(query)).mappings().first()
        return _notice(dict(row)) if row else None

    async def create_notice(self, group_by: str, at: datetime, due_at: datetime) -> Notice:
        result = await self._conn.execute(
            sa.insert(alert_notices)
            .values(
                group_by=group_by,
                status=NoticeStatus.OPEN.value,
                created_at=to_utc(at),
                version=1,
                sent_version=0,
                due_at=to_utc(due_at),
            )
            .returning(*alert_notices.columns)
        )
        return _notice(dict(result.mappings().one()))

    async def attach(self, group: AlertGroup, notice: Notice) -> None:
        await self._conn.execute(
            sa.update(alert_groups).where(alert_groups.c.id == group.id).values(notice_id=notice.id)
        )

    async def changed_notice(self, notice: Notice, due_at: datetime) -> Notice:
        # A send already planned stands — the group_wait deadline, a running send's lease
        # or a rate-limit back-off; a change only sets one when none is planned.
        due = notice.due_at or due_at
        return await self._notice_change(
            notice, version=alert_notices.c.version + 1, due_at=to_utc(due)
        )

    async def claim_due_notices(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[Notice]:
        query = (
            sa.select(alert_notices)
            .where(alert_notices.c.due_at <= to_utc(now))
            .order_by(alert_notices.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with _transient():
            notices = [_notice(dict(r)) for r in (await self._conn.execute(query)).mappings()]
            if notices:
                await self._conn.execute(
                    sa.update(alert_notices)
                    .where(alert_notices.c.id.in_([n.id for n in notices]))
                    .values(due_at=to_utc(lease_until))
                )
        return notices

    async def renew_notice(self, notice_id: int, held_until: datetime, until: datetime) -> bool:
        async with _transient():
            result = await self._conn.execute(
                sa.update(alert_notices)
                .where(_notice_held(notice_id, held_until))
                .values(due_at=to_utc(until))
            )
        return bool(result.rowcount)

    async def notice_sent(
        self,
        notice: Notice,
        channel_id: str,
        message_ts: str,
        at: datetime,
        again_at: datetime,
        close: bool,
        *,
        held_until: datetime,
    ) -> bool:
        # One row, locked alone: the sender never holds an alert group, so it takes no
        # part in the reader's and folder's order (groups, then their notice). It can still
        # be caught in a deadlock between two readers queued on this row (Postgres picks
        # any waiter in the cycle): that is transient, and the sender tries again.
        changed_since = alert_notices.c.version > notice.version
        async with _transient():
            result = await self._conn.execute(
                sa.update(alert_notices)
                .where(_notice_held(notice.id, held_until))
                .values(
                    channel_id=channel_id,
                    message_ts=message_ts,
                    sent_at=to_utc(at),
                    sent_version=notice.version,
                    due_at=sa.case((changed_since, to_utc(again_at)), else_=None),
                    status=sa.case(
                        (changed_since, alert_notices.c.status),
                        else_=NoticeStatus.CLOSED.value if close else alert_notices.c.status,
                    ),
                )
            )
        return bool(result.rowcount)

    async def notice_failed(
        self,
        notice: Notice,
        retry_at: datetime,
        *,
        held_until: datetime,
        forget_message: bool = False,
    ) -> bool:
        gone = {"message_ts": None, "channel_id": None} if forget_message else {}
        async with _transient():
            result = await self._conn.execute(
                sa.update(alert_notices)
                .where(_notice_held(notice.id, held_until))
                .values(due_at=to_utc(retry_at), **gone)
            )
        return bool(result.rowcount)

    async def acknowledge_notice(
        self, notice: Notice, by: str, at: datetime, due_at: datetime
    ) -> Notice:
        due = notice.due_at or due_at
        return await self._notice_change(
            notice,
            acknowledged_by=by,
            acknowledged_at=to_utc(at),
            version=alert_notices.c.version + 1,
            due_at=to_utc(due),
        )

    async def _notice_change(self, notice: Notice, **values: Any) -> Notice:
        result = await self._conn.execute(
            sa.update(alert_notices)
            .where(alert_notices.c.id == notice.id)
            .values(**values)
            .returning(*alert_notices.columns)
        )
        return _notice(dict(result.mappings().one()))


def _notice(row: dict[str, Any]) -> Notice:
    row["status"] = NoticeStatus(row["status"])
    for name in ("created_at", "sent_at", "due_at", "acknowledged_at"):
        row[name] = from_utc(row[name])
    return Notice(**row)


def _notice_held(notice_id: int, held_until: datetime) -> sa.ColumnElement[bool]:
    """The notice, still leased to the sender whose lease ends at `held_until`."""
    return (alert_notices.c.id == notice_id) & (alert_notices.c.due_at == to_utc(held_until))


_TRANSIENT_STATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


@asynccontextmanager
async def _transient() -> AsyncIterator[None]:
    """A deadlock (or a serialization failure) aborted the transaction: nothing was
    written, and the same unit of work may simply be tried again."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if state in _TRANSIENT_STATES:
            raise StoreUnavailable(f"database aborted the write ({state}): try again") from exc
        raise
