"""`SqlIncidentStore` against the `IncidentStore` contract, on SQLite and on PostgreSQL.

Engines are built the way the bot builds them: `create_engine(driver_url(url))`, then
`upgrade(engine)`; nothing here creates tables by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import StoreUnavailable
from bot.incidents.model import EventKind, Incident, Status, TimelineEvent
from bot.store.database import create_engine, driver_url
from bot.store.incident_store import SqlIncidentStore
from bot.store.migrate import upgrade
from bot.vocabulary import Severity
from tests.drivers.services import proxy_url
from tests.fakes.tcp_proxy import TcpProxy

ALICE = "U01ALICE00"
BOB = "U01BOBBY00"
T0 = datetime(2025, 6, 3, 9, 0, 0, 123456, tzinfo=UTC)
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nope"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(driver_url(database_url))
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> SqlIncidentStore:
    return SqlIncidentStore(engine)


@pytest.fixture
async def pg_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(driver_url(postgres_url))
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


def _incident(number: int, title: str, at: datetime = T0, **fields: Any) -> Incident:
    return replace(
        Incident(
            number=number,
            title=title,
            severity=Severity.SEV2,
            status=Status.INVESTIGATING,
            opened_by=ALICE,
            created_at=at,
            updated_at=at,
            lead=ALICE,
        ),
        **fields,
    )


def _declared(incident: Incident) -> TimelineEvent:
    return TimelineEvent(
        incident.number,
        incident.created_at,
        EventKind.DECLARED,
        incident.opened_by,
        f"Declared {incident.severity.label}: {incident.title}",
        {"severity": incident.severity.value, "title": incident.title},
    )


async def _open(store: SqlIncidentStore, title: str, **fields: Any) -> Incident:
    """What opening an incident does: number, incident and first event in one transaction."""
    async with store.transaction() as tx:
        number = await tx.next_number()
        incident = _incident(number, title, **fields)
        await tx.insert(incident)
        await tx.append(_declared(incident))
    return incident


def _assert_utc(*values: datetime | None) -> None:
    for value in values:
        if value is not None:
            assert value.tzinfo is not None, f"{value!r} came back naive"
            assert value.utcoffset() == timedelta(0), f"{value!r} is not UTC"


# --- reading back what was written -----------------------------------------------------


async def test_written_incidents_and_events_read_back_equal(store: SqlIncidentStore) -> None:
    first = await _open(store, "Checkout is down", channel_id="C01INC0001")
    full = await _open(
        store,
        "Search is slow",
        description="p99 at 4 s on /search",
        severity=Severity.SEV1,
        status=Status.MITIGATED,
        lead=BOB,
        channel_id="C01INC0002",
        channel_name="inc-2-search-is-slow",
        card_ts="1717405200.000100",
        announcement_channel_id="C01INCIDNT",
        announcement_ts="1717405201.000200",
        summary="Reverted the index change",
        updated_at=T0 + timedelta(hours=2),
        acknowledged_at=T0 + timedelta(minutes=3),
        acknowledged_by=BOB,
        mitigated_at=T0 + timedelta(hours=2),
    )
    resolved = await _open(
        store,
        "Login flaps",
        status=Status.RESOLVED,
        resolved_at=T0 + timedelta(hours=5),
        updated_at=T0 + timedelta(hours=5),
    )
    assert [first.number, full.number, resolved.number] == [1, 2, 3]

    assert await store.get(1) == first
    assert await store.get(2) == full
    assert await store.get(3) == resolved
    assert await store.get(99) is None
    assert await store.find_by_channel("C01INC0002") == full
    assert await store.find_by_channel("C01NOSUCH0") is None

    assert await store.list(include_closed=False, limit=10) == [full, first]
    assert await store.list(include_closed=True, limit=10) == [resolved, full, first]
    assert await store.list(include_closed=True, limit=2) == [resolved, full]
    assert await store.list(include_closed=False, limit=1) == [full]

    back = await store.get(2)
    assert back is not None
    _assert_utc(
        back.created_at, back.updated_at, back.acknowledged_at, back.mitigated_at, back.resolved_at
    )
    closed = await store.get(3)
    assert closed is not None
    _assert_utc(closed.resolved_at)
    assert closed.resolved_at == T0 + timedelta(hours=5)


async def test_timeline_comes_back_in_order_with_its_data(store: SqlIncidentStore) -> None:
    incident = await _open(store, "Checkout is down")
    other = await _open(store, "Unrelated")
    later = [
        TimelineEvent(1, T0 + timedelta(minutes=1), EventKind.ACKNOWLEDGED, BOB, "Acknowledged"),
        # Two events in the same microsecond keep the order they were written in.
        TimelineEvent(1, T0 + timedelta(minutes=5), EventKind.NOTE, BOB, "first note"),
        TimelineEvent(1, T0 + timedelta(minutes=5), EventKind.NOTE, ALICE, "second note"),
        TimelineEvent(
            1,
            T0 + timedelta(minutes=9),
            EventKind.STATUS_CHANGED,
            ALICE,
            "Status → identified",
            {"from": "investigating", "to": "identified", "nested": {"ids": [1, 2], "ok": None}},
        ),
    ]
    for event in later:
        async with store.transaction() as tx:
            await tx.append(event)

    timeline = await store.timeline(incident.number)
    assert timeline == [_declared(incident), *later]
    _assert_utc(*(event.at for event in timeline))
    assert await store.timeline(other.number) == [_declared(other)]
    assert await store.timeline(99) == []


async def test_update_through_get_for_update_is_what_get_returns(store: SqlIncidentStore) -> None:
    await _open(store, "Checkout is down")
    async with store.transaction() as tx:
        current = await tx.get_for_update(1)
        assert current is not None
        changed = replace(
            current,
            status=Status.IDENTIFIED,
            lead=BOB,
            updated_at=T0 + timedelta(minutes=7),
        )
        await tx.update(changed)
        assert await tx.get_for_update(2) is None

    assert await store.get(1) == changed
    assert [event.kind for event in await store.timeline(1)] == [EventKind.DECLARED]


async def test_an_aware_time_in_another_zone_is_stored_as_the_same_instant(
    request: pytest.FixtureRequest, database_url: str, store: SqlIncidentStore
) -> None:
    berlin = datetime(2025, 6, 3, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    await _open(store, "Opened from a +02:00 clock", at=berlin)

    back = await store.get(1)
    assert back is not None
    assert back.created_at == berlin  # 10:00 UTC


# --- one unit of work ----------------------------------------------------------------------


class Boom(Exception):
    pass


async def test_a_failed_transaction_leaves_nothing_and_numbers_only_grow(
    store: SqlIncidentStore,
) -> None:
    kept = await _open(store, "Checkout is down")

    numbered: list[int] = []

    async def open_then_fail() -> None:
        async with store.transaction() as tx:
            numbered.append(await tx.next_number())
            await tx.insert(_incident(numbered[0], "Never happened"))
            await tx.append(_declared(_incident(numbered[0], "Never happened")))
            raise Boom

    with pytest.raises(Boom):
        await open_then_fail()
    [doomed] = numbered

    assert doomed > kept.number
    assert await store.get(doomed) is None
    assert await store.timeline(doomed) == []
    assert await store.list(include_closed=True, limit=10) == [kept]

    later = await _open(store, "Search is slow")
    assert later.number > kept.number
    # What actually happens: the rolled-back number isn't burned. Nobody saw it (the bot
    # announces a number only after commit), so numbering stays gapless.
    assert later.number == doomed
    assert await store.list(include_closed=True, limit=10) == [later, kept]


async def test_a_transaction_the_database_refuses_leaves_nothing(store: SqlIncidentStore) -> None:
    kept = await _open(store, "Checkout is down", channel_id="C01INC0001")

    numbered: list[int] = []

    async def open_two_the_second_clashing() -> None:
        async with store.transaction() as tx:
            numbered.append(await tx.next_number())
            await tx.insert(_incident(numbered[0], "Second"))
            await tx.append(_declared(_incident(numbered[0], "Second")))
            # A third incident claiming the first one's channel: unique constraint.
            clash = await tx.next_number()
            await tx.insert(_incident(clash, "Clash", channel_id="C01INC0001"))

    with pytest.raises(sa.exc.IntegrityError):
        await open_two_the_second_clashing()
    [number] = numbered

    assert await store.list(include_closed=True, limit=10) == [kept]
    assert await store.timeline(number) == []
    assert (await _open(store, "After")).number == kept.number + 1


async def test_thirty_concurrent_opens_get_distinct_consecutive_numbers(
    store: SqlIncidentStore,
) -> None:
    async def open_one(i: int) -> tuple[int, str]:
        async with store.transaction() as tx:
            number = await tx.next_number()
            await asyncio.sleep(0)  # let the others run between numbering and inserting
            incident = _incident(number, f"Alert storm {i}")
            await tx.insert(incident)
            await tx.append(_declared(incident))
        return number, incident.title

    opened = await asyncio.gather(*(open_one(i) for i in range(30)))

    assert sorted(number for number, _ in opened) == list(range(1, 31))
    stored = await store.list(include_closed=True, limit=100)
    assert [(i.number, i.title) for i in stored] == sorted(opened, reverse=True)
    for number, title in opened:
        assert [e.text for e in await store.timeline(number)] == [f"Declared SEV2: {title}"]


# --- the timeline can't be rewritten ------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE timeline_events SET text = 'nothing happened'",
        "UPDATE timeline_events SET actor = 'U0SOMEONE0' WHERE kind = 'declared'",
        "DELETE FROM timeline_events",
        "DELETE FROM timeline_events WHERE kind = 'note'",
    ],
)
async def test_the_database_refuses_to_change_or_remove_timeline_events(
    engine: AsyncEngine, store: SqlIncidentStore, statement: str
) -> None:
    incident = await _open(store, "Checkout is down")
    async with store.transaction() as tx:
        await tx.append(TimelineEvent(1, T0 + timedelta(minutes=2), EventKind.NOTE, BOB, "a note"))
    before = await store.timeline(incident.number)
    assert len(before) == 2

    async with engine.connect() as conn:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            await conn.execute(sa.text(statement))
        await conn.rollback()

    assert await store.timeline(incident.number) == before


async def test_an_incident_with_a_timeline_cannot_be_deleted(
    engine: AsyncEngine, store: SqlIncidentStore
) -> None:
    """Deleting the incident would take its events with it (or orphan them); the foreign
    key refuses, on SQLite too (the engine switches `foreign_keys` on)."""
    incident = await _open(store, "Checkout is down")

    async with engine.connect() as conn:
        with pytest.raises(sa.exc.IntegrityError):
            await conn.execute(sa.text("DELETE FROM incidents WHERE number = 1"))
        await conn.rollback()

    assert await store.get(1) == incident
    assert await store.timeline(1) == [_declared(incident)]


async def test_truncate_cannot_empty_the_timeline_on_postgres(pg_engine: AsyncEngine) -> None:
    store = SqlIncidentStore(pg_engine)
    incident = await _open(store, "Checkout is down")

    async with pg_engine.connect() as conn:
        try:
            await conn.execute(sa.text("TRUNCATE timeline_events"))
            await conn.commit()
        except sa.exc.DBAPIError:
            await conn.rollback()

    assert await store.timeline(incident.number) == [_declared(incident)]


# --- locking (PostgreSQL; SQLite has one connection and drops FOR UPDATE) -----------------


async def _wait_until_someone_waits_for_a_row_lock(
    engine: AsyncEngine, waiter: asyncio.Task[Any]
) -> None:
    async with asyncio.timeout(10), engine.connect() as conn:
        while True:
            assert not waiter.done(), "the second get_for_update returned without waiting"
            waiting = (
                await conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock' "
                        "AND query ILIKE '%FOR UPDATE%'"
                    )
                )
            ).scalar_one()
            await conn.rollback()
            if waiting:
                return
            await asyncio.sleep(0.01)


async def test_get_for_update_holds_the_incident_until_the_holder_commits(
    pg_engine: AsyncEngine,
) -> None:
    store = SqlIncidentStore(pg_engine)
    await _open(store, "Checkout is down")
    order: list[str] = []
    a_holds = asyncio.Event()
    a_may_finish = asyncio.Event()

    async def a() -> None:
        async with store.transaction() as tx:
            current = await tx.get_for_update(1)
            assert current is not None
            order.append("A holds")
            a_holds.set()
            await a_may_finish.wait()
            await tx.update(replace(current, title="Renamed by A"))
            order.append("A commits")

    async def b() -> Incident | None:
        await a_holds.wait()
        async with store.transaction() as tx:
            seen = await tx.get_for_update(1)
            order.append("B reads")
            return seen

    task_a = asyncio.create_task(a())
    task_b = asyncio.create_task(b())
    try:
        await a_holds.wait()
        await _wait_until_someone_waits_for_a_row_lock(pg_engine, task_b)
        assert order == ["A holds"]

        a_may_finish.set()
        seen = await task_b
        await task_a
    finally:
        a_may_finish.set()
        await asyncio.gather(task_a, task_b, return_exceptions=True)

    assert order == ["A holds", "A commits", "B reads"]
    assert seen is not None
    assert seen.title == "Renamed by A"  # B worked on A's result: no lost update


# --- an unreachable database ----------------------------------------------------------------


async def _list(store: SqlIncidentStore) -> object:
    return await store.list(include_closed=True, limit=10)


async def _transaction(store: SqlIncidentStore) -> object:
    async with store.transaction() as tx:
        return await tx.next_number()


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda store: store.get(1), id="get"),
        pytest.param(lambda store: store.find_by_channel("C01INC0001"), id="find_by_channel"),
        pytest.param(_list, id="list"),
        pytest.param(lambda store: store.timeline(1), id="timeline"),
        pytest.param(_transaction, id="transaction"),
    ],
)
async def test_an_unreachable_database_raises_store_unavailable(
    operation: Callable[[SqlIncidentStore], Awaitable[object]],
) -> None:
    engine = create_engine(driver_url(UNREACHABLE))
    try:
        store = SqlIncidentStore(engine)
        async with asyncio.timeout(20):
            with pytest.raises(StoreUnavailable, match="database unreachable"):
                await operation(store)
    finally:
        await engine.dispose()


async def test_a_connection_lost_mid_transaction_is_store_unavailable(
    postgres_proxy: TcpProxy,
) -> None:
    engine = create_engine(driver_url(proxy_url(postgres_proxy)))
    try:
        await upgrade(engine)
        store = SqlIncidentStore(engine)

        async def cut_midway() -> None:
            async with store.transaction() as tx:
                await tx.next_number()
                await postgres_proxy.cut()
                await tx.next_number()

        with pytest.raises(StoreUnavailable):
            await cut_midway()
    finally:
        await engine.dispose()
