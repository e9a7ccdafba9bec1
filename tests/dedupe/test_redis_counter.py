"""`RedisRepeatCounter` against real Redis: one round trip per repeat, nothing lost in a fold."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.dedupe.redis_counter import RedisRepeatCounter
from bot.dedupe.redis_dedupe import connect_redis
from bot.errors import DedupeUnavailable
from tests.fakes.tcp_proxy import TcpProxy
from tests.faults.redis_server import RedisServer

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PREFIX = "lucia:a1b2c3:"


@pytest.fixture
async def counter(redis_url: str) -> AsyncIterator[RedisRepeatCounter]:
    client = connect_redis(redis_url)
    yield RedisRepeatCounter(client, PREFIX)
    await client.aclose()


async def test_only_keys_marked_firing_are_counted(counter: RedisRepeatCounter) -> None:
    assert not await counter.count("sentry:issue:1", T0)
    await counter.mark_firing(["sentry:issue:1"])
    assert await counter.count("sentry:issue:1", T0)
    await counter.forget(["sentry:issue:1"])
    assert not await counter.count("sentry:issue:1", T0)


async def test_take_returns_counts_and_last_seen_until_folded(
    counter: RedisRepeatCounter, redis_url: str
) -> None:
    async def expire_fold_lock() -> None:
        client = connect_redis(redis_url)
        await client.delete(PREFIX + "fold-lock")
        await client.aclose()

    await counter.mark_firing(["a", "b"])
    for i in range(5):
        await counter.count("a", T0 + timedelta(seconds=i))
    await counter.count("b", T0)
    taken = await counter.take()
    assert taken.counts == {"a": (5, T0 + timedelta(seconds=4)), "b": (1, T0)}
    await counter.count("a", T0)  # arrives during the fold: kept for the next one
    other_client = connect_redis(redis_url)  # another process (Render runs two in a deploy)
    try:
        other = RedisRepeatCounter(other_client, PREFIX)
        assert (await other.take()).counts == {}  # one folder at a time: no second take meanwhile
        await expire_fold_lock()  # the folder died; its lock expired
        again = await other.take()
        # Its counts are folded again, not lost, under the same fold id; and the folder
        # is told the newer count waits behind them, so it folds once more at once.
        assert (again.id, again.counts) == (taken.id, taken.counts)
        assert again.more_waiting
        assert not taken.more_waiting
        await other.folded()
        later = await other.take()
        assert later.counts == {"a": (1, T0)}
        assert later.id != taken.id
    finally:
        await other_client.aclose()


async def test_a_fold_that_failed_is_taken_up_again_by_its_own_process(
    counter: RedisRepeatCounter,
) -> None:
    """The database failed mid-fold and the lock couldn't be freed: the same process folds
    those counts on its next try, without waiting for its own lock to run out."""
    await counter.mark_firing(["a"])
    await counter.count("a", T0)
    taken = await counter.take()
    assert await counter.take() == taken


async def test_an_unreachable_redis_says_so() -> None:
    client = connect_redis("redis://127.0.0.1:1/0")
    try:
        with pytest.raises(DedupeUnavailable):
            await RedisRepeatCounter(client, PREFIX).count("k", T0)
    finally:
        await client.aclose()


async def test_an_empty_fold_leaves_the_next_fold_free(counter: RedisRepeatCounter) -> None:
    assert (await counter.take()).counts == {}
    assert (await counter.take()).counts == {}
    await counter.mark_firing(["a"])
    await counter.count("a", T0)
    assert (await counter.take()).counts == {"a": (1, T0)}


async def test_a_burst_of_repeats_shares_round_trips_and_each_is_counted(
    counter: RedisRepeatCounter, redis_url: str
) -> None:
    # Upstash bills per command: 200 repeats at once must not cost 200 EVALSHAs.
    async def evalsha_calls() -> int:
        client = connect_redis(redis_url)
        stats = await client.info("commandstats")
        await client.aclose()
        return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))

    await counter.mark_firing(["a"])
    before = await evalsha_calls()
    answers = await asyncio.gather(*(counter.count("a", T0) for _ in range(200)))
    used = await evalsha_calls() - before
    assert all(answers)
    assert 1 <= used <= 3
    assert (await counter.take()).counts == {"a": (200, T0)}


async def test_a_batch_that_reaches_redis_after_its_answer_was_given_up_counts_nothing(
    redis_url: str,
) -> None:
    """A network that holds the bytes (a partition that heals) delivers the EVALSHA after
    the bot stopped waiting at 250 ms and kept the delivery in the inbox instead: counting
    it then would count it twice."""
    url = urlsplit(redis_url)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 6379)
    await proxy.start()
    client = connect_redis(f"redis://127.0.0.1:{proxy.port}{url.path}")
    try:
        counter = RedisRepeatCounter(client, PREFIX)
        await counter.mark_firing(["a"])
        proxy.hang()
        with pytest.raises(DedupeUnavailable, match="TimeoutError"):
            await counter.count("a", T0)
        await asyncio.sleep(0.3)
        await proxy.resume()  # the held EVALSHA reaches Redis now, past its deadline
        await asyncio.sleep(0.3)
        assert (await counter.take()).counts == {}
        assert await counter.count("a", T0)  # an answer in time still counts
    finally:
        await client.aclose()
        await proxy.cut()


async def test_only_the_folder_holding_the_lock_frees_it(redis_url: str) -> None:
    """Two processes: one folds; the other's clean-up (after its own fold failed) must
    not free the first one's lock, or both would fold the same counts."""
    first, second = connect_redis(redis_url), connect_redis(redis_url)
    try:
        folding, other = RedisRepeatCounter(first, PREFIX), RedisRepeatCounter(second, PREFIX)
        await folding.mark_firing(["a"])
        await folding.count("a", T0)
        assert (await folding.take()).counts == {"a": (1, T0)}
        await other.release()
        assert (await other.take()).counts == {}  # still locked by the first
        await folding.folded()
        await folding.count("a", T0)
        assert (await other.take()).counts == {"a": (1, T0)}  # free once its holder let go
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_fold_with_nothing_to_fold_costs_one_command(tmp_path: Path) -> None:
    # Upstash bills every command, scripts' inner ones included: the idle bot's periodic
    # look for what a killed process left must not take and free a lock for nothing.
    server = RedisServer(tmp_path / "redis")
    await server.start()
    client = connect_redis(server.url)
    try:
        counter = RedisRepeatCounter(client, PREFIX)
        await client.ping()
        before = await client.info("commandstats")

        taken = await counter.take()

        after = await client.info("commandstats")
    finally:
        await client.aclose()
        await server.close()
    calls = {
        name: int(after[name]["calls"]) - int(before.get(name, {"calls": 0})["calls"])
        for name in after
        if name not in ("cmdstat_info", "cmdstat_ping")
    }
    assert taken.counts == {}
    assert not taken.locked_elsewhere
    assert {name: n for name, n in calls.items() if n} == {"cmdstat_exists": 1}
