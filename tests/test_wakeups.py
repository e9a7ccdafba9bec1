"""The workers are woken when the stored timers say so, and an idle bot asks rarely."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import StoreUnavailable
from bot.wakeups import Wakeups


class Timers:
    """A stand-in for the database's answer to "when is the next thing due?"."""

    def __init__(self) -> None:
        self.due: datetime | None = None
        self.asked = 0
        self.woken: list[datetime] = []
        self.down = False

    async def next_due(self) -> datetime | None:
        self.asked += 1
        if self.down:
            raise StoreUnavailable("database unreachable")
        return self.due

    def wake(self) -> None:
        self.woken.append(datetime.now(UTC))
        self.due = None  # the workers did what was due


@pytest.fixture
async def running() -> AsyncIterator[tuple[Timers, Wakeups]]:
    timers = Timers()
    wakeups = Wakeups(timers.next_due, timers.wake, lambda: datetime.now(UTC))
    task = asyncio.create_task(wakeups.run())
    try:
        yield timers, wakeups
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_with_nothing_due_it_asks_once_and_wakes_nobody(
    running: tuple[Timers, Wakeups],
) -> None:
    timers, _ = running
    await asyncio.sleep(1.5)
    assert timers.asked == 1
    assert timers.woken == []


async def test_a_timer_stored_meanwhile_wakes_the_workers_when_it_is_due_not_before(
    running: tuple[Timers, Wakeups],
) -> None:
    timers, wakeups = running
    await asyncio.sleep(0.1)
    due = datetime.now(UTC) + timedelta(seconds=0.8)
    timers.due = due
    wakeups.changed()  # a worker stored it and finished
    async with asyncio.timeout(5):
        while not timers.woken:  # noqa: ASYNC110 - the loop under test has its own timers
            await asyncio.sleep(0.02)
    assert timers.woken[0] >= due


async def test_work_already_due_is_done_at_once(running: tuple[Timers, Wakeups]) -> None:
    timers, wakeups = running
    timers.due = datetime.now(UTC) - timedelta(minutes=3)  # a stopped process left it
    wakeups.changed()
    async with asyncio.timeout(2):
        while not timers.woken:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_a_database_that_cannot_answer_is_asked_again_soon(
    running: tuple[Timers, Wakeups],
) -> None:
    timers, wakeups = running
    timers.down = True
    wakeups.changed()
    await asyncio.sleep(0.7)
    timers.down = False
    timers.due = datetime.now(UTC)
    async with asyncio.timeout(10):
        while not timers.woken:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
