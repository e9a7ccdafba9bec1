"""`AlertStore` on SQLAlchemy: the delivery inbox and the alert groups."""

from __future__ import annotations

__all__ = ["SqlAlertStore"]

import asyncio
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
    Notice,
    NoticeStatus,
    Silence,
)
from bot.errors import StoreConflict, StoreUnavailable
from bot.store.database import connect, from_utc, to_utc
from bot.store.tables import alert_deliveries, alert_groups, alert_notices, deployment, silences
from bot.types import Clock

KEEP_BATCH = 200  # deliveries per group commit
COMMIT_TIMEOUT = 5.0  # seconds a commit of kept deliveries may take before it is abandoned


class _SqlAlertTransaction:
    def __init__(self, conn: AsyncConnection, clock_now: datetime) -> None:
        self._conn = conn
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
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[int]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def keep(self, source: str, kind: str, body: bytes, received_at: datetime) -> int:
        """Committed when this returns. Deliveries arriving while a commit is under way
        are committed together in the next one (group commit): in a flood each webhook
        still waits for its own durable commit, but the database does a few, not one each.

        The commits run in a task of their own: a caller that stops waiting (its answer
        was due) leaves them running for everyone else, and its row may still be kept.
        """
        row = {"source": source, "kind": kind, "body": body, "received_at": to_utc(received_at)}
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_retrieved)
        self._waiting.append((row, done))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_waiting(), name="inbox-commit")
        return await asyncio.shield(done)

    async def close(self) -> None:
        """Let the commits under way finish (or fail) before the engine goes."""
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)

    async def _commit_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:KEEP_BATCH], self._waiting[KEEP_BATCH:]
                await self._commit(batch)
        finally:
            self._committer = None
            for _, waiting in self._waiting:  # cancelled mid-way: nobody left to commit
                if not waiting.done():
                    waiting.set_exception(StoreUnavailable("not stored: the commit was cut off"))
            self._waiting = []

    async def _commit(self, batch: list[tuple[dict[str, Any], asyncio.Future[int]]]) -> None:
        try:
            # A database that stops answering (packets dropped, not refused) must not hold
            # every later delivery behind this batch.
            async with asyncio.timeout(COMMIT_TIMEOUT), connect(self._engine, begin=True) as conn:
                result = await conn.execute(
                    sa.insert(alert_deliveries).returning(
                        alert_deliveries.c.id, sort_by_parameter_order=True
                    ),
                    [row for row, _ in batch],
                )
                ids = [int(i) for i in result.scalars()]
        except BaseException as exc:  # each waiting caller gets the failure as its own
            failure = (
                StoreUnavailable(f"not stored: no answer from the database in {COMMIT_TIMEOUT} s")
                if isinstance(exc, TimeoutError)
                else exc
            )
            for _, done in batch:
                if not done.done():
                    done.set_exception(failure)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for (_, done), delivery_id in zip(batch, ids, strict=True):
            if not done.done():
                done.set_result(delivery_id)

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


def _notice(row: dict[str, Any]) -> Notice:
    row["status"] = NoticeStatus(row["status"])
    for name in ("created_at", "sent_at", "due_at", "acknowledged_at"):
        row[name] = from_utc(row[name])
    return Notice(**row)


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


def _refuses_the_value(exc: sa.exc.DBAPIError) -> bool:
    """SQLSTATE class 22 (data exception: too long, bad encoding…) on PostgreSQL; SQLite
    enforces no lengths, so its data errors are the same kind of refusal."""
    state = getattr(exc.orig, "sqlstate", None)
    return isinstance(exc, sa.exc.DataError) or (isinstance(state, str) and state[:2] == "22")


def _retrieved(future: asyncio.Future[int]) -> None:
    """A caller that stopped waiting never reads its failure: mark it read, not lost."""
    if not future.cancelled():
        future.exception()
