"""The `Dedupe` contract, on the in-process store and on real Redis: the first claim of a
key wins, repeats lose until the TTL runs out, and concurrent claims have one winner."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from bot.dedupe.memory import MemoryDedupe
from bot.dedupe.redis_dedupe import RedisDedupe
from bot.errors import DedupeUnavailable
from bot.slack.ports import Dedupe

UNREACHABLE = "redis://127.0.0.1:1/0"
PREFIX = "lucia:a1b2c3:"


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Store:
    dedupe: Dedupe
    clock: Clock | None  # None: real time (Redis expires keys itself)

    async def let_pass(self, seconds: float) -> None:
        if self.clock is None:
            await asyncio.sleep(seconds)
        else:
            self.clock.now += seconds


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """None for the in-process store, else the URL of an empty Redis database."""
    # A sync fixture, so it can pull in the async `redis_url` only where it's needed.
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


@pytest.fixture
async def store(backend: str | None) -> AsyncIterator[Store]:
    if backend is None:
        clock = Clock()
        case = Store(MemoryDedupe(monotonic=clock), clock)
    else:
        case = Store(RedisDedupe.from_url(backend, prefix=PREFIX), None)
    try:
        yield case
    finally:
        await case.dedupe.close()


@pytest.fixture
async def raw_redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


# --- the contract ----------------------------------------------------------------------


async def test_the_first_claim_wins_and_repeats_lose(store: Store) -> None:
    assert await store.dedupe.claim("slack:Ev01ABCDEF", 60) is True
    assert await store.dedupe.claim("slack:Ev01ABCDEF", 60) is False
    assert await store.dedupe.claim("slack:Ev01ABCDEF", 60) is False


async def test_different_keys_are_independent(store: Store) -> None:
    assert await store.dedupe.claim("sentry:issue-1", 60) is True
    assert await store.dedupe.claim("sentry:issue-2", 60) is True
    assert await store.dedupe.claim("slack:issue-1", 60) is True

    assert await store.dedupe.claim("sentry:issue-1", 60) is False
    assert await store.dedupe.claim("sentry:issue-2", 60) is False


async def test_a_key_is_claimable_again_after_its_ttl(store: Store) -> None:
    assert await store.dedupe.claim("sentry:issue-1", 1) is True
    assert await store.dedupe.claim("sentry:issue-2", 60) is True

    await store.let_pass(0.6)
    assert await store.dedupe.claim("sentry:issue-1", 1) is False  # doesn't extend the window
    await store.let_pass(0.6)

    assert await store.dedupe.claim("sentry:issue-1", 1) is True
    assert await store.dedupe.claim("sentry:issue-1", 1) is False
    assert await store.dedupe.claim("sentry:issue-2", 60) is False


async def test_fifty_concurrent_claims_of_one_key_have_one_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.dedupe.claim("slack:Ev01RETRY0", 60) for _ in range(50)))

    assert results.count(True) == 1
    assert results.count(False) == 49


async def test_a_burst_of_claims_larger_than_the_pool_all_get_an_answer(
    request: pytest.FixtureRequest, store: Store
) -> None:
    results = await asyncio.gather(
        *(store.dedupe.claim(f"sentry:storm-{i % 10}", 60) for i in range(120)),
        return_exceptions=True,
    )

    assert [r for r in results if isinstance(r, BaseException)] == []
    assert results.count(True) == 10


async def test_ping_answers(store: Store) -> None:
    await store.dedupe.ping()

    assert await store.dedupe.claim("after-ping", 60) is True


# --- Redis only ---------------------------------------------------------------------------


async def test_redis_keys_carry_the_prefix_and_expire(
    redis_url: str, raw_redis: aioredis.Redis
) -> None:
    dedupe = RedisDedupe.from_url(redis_url, prefix=PREFIX)
    try:
        assert await dedupe.claim("sentry:issue-1", 60) is True
    finally:
        await dedupe.close()

    assert await raw_redis.keys("*") == ["lucia:a1b2c3:sentry:issue-1"]
    assert 0 < await raw_redis.ttl("lucia:a1b2c3:sentry:issue-1") <= 60


async def test_two_bot_processes_share_claims_through_redis(redis_url: str) -> None:
    """Render runs the old and the new process side by side during a deploy."""
    old, new = (
        RedisDedupe.from_url(redis_url, prefix=PREFIX),
        RedisDedupe.from_url(redis_url, prefix=PREFIX),
    )
    try:
        assert await old.claim("slack:Ev01ABCDEF", 60) is True
        assert await new.claim("slack:Ev01ABCDEF", 60) is False
    finally:
        await old.close()
        await new.close()


async def test_unreachable_redis_raises_dedupe_unavailable_promptly() -> None:
    dedupe = RedisDedupe.from_url(UNREACHABLE, prefix=PREFIX)
    try:
        async with asyncio.timeout(10):
            with pytest.raises(DedupeUnavailable, match="redis"):
                await dedupe.claim("slack:Ev01ABCDEF", 60)
            with pytest.raises(DedupeUnavailable, match="redis"):
                await dedupe.ping()
    finally:
        await dedupe.close()
