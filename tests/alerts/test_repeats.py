"""With Redis, repeats of a firing alert skip the inbox and are folded onto their group."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa

from bot.store.tables import alert_deliveries, alert_groups, deployment
from tests.drivers.alerts import ALERTS, FAST, issue_alert, shown
from tests.drivers.bot import Bot, running_bot
from tests.drivers.payloads import sentry_fixture
from tests.drivers.sentry import SECRET, deliver
from tests.fakes.slack_api import FakeSlackAPI


async def _count(bot: Bot, query: sa.Select[tuple[int]]) -> int:
    async with bot.runtime.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


def deliveries() -> sa.Select[tuple[int]]:
    return sa.select(sa.func.count()).select_from(alert_deliveries)


def group_count() -> sa.Select[tuple[int]]:
    return sa.select(sa.func.coalesce(sa.func.sum(alert_groups.c.count), 0))


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str, redis_url: str) -> AsyncIterator[Bot]:
    slack_api.add_channel("alerts", channel_id=ALERTS)
    env = {"SENTRY_CLIENT_SECRET": SECRET, "LUCIA_ALERTS_CHANNEL": ALERTS, "REDIS_URL": redis_url}
    async with running_bot(slack_api, database_url, FAST, **env) as running:
        yield running


async def test_repeats_are_counted_in_redis_and_folded_onto_the_group(bot: Bot) -> None:
    body = issue_alert(5)
    assert "accepted" in await (await deliver(bot, body, "event_alert")).json()
    await bot.settle()  # the reader marks the group firing
    answers = await asyncio.gather(*(deliver(bot, body, "event_alert") for _ in range(100)))
    bodies = [await a.json() for a in answers]
    assert bodies == [{"counted": True}] * 100
    assert await _count(bot, deliveries()) == 1  # the repeats never touched the inbox

    async def folded() -> bool:
        return await _count(bot, group_count()) == 101

    async with asyncio.timeout(10):
        while not await folded():  # noqa: ASYNC110 - the fold runs on its own timer
            await asyncio.sleep(0.1)
    await shown(bot.slack.channels[ALERTS], "×101")


async def test_after_a_resolve_repeats_go_through_the_inbox_again(bot: Bot) -> None:
    body = issue_alert(1638821441)  # the issue that issue.resolved.json resolves
    await deliver(bot, body, "event_alert")
    await bot.settle()
    await deliver(bot, sentry_fixture("issue.resolved.json"), "issue")
    await bot.settle()
    again = await (await deliver(bot, body, "event_alert")).json()
    assert "accepted" in again
    await bot.settle()
    async with bot.runtime.engine.connect() as conn:
        statuses = [
            r[0]
            for r in await conn.execute(
                sa.select(alert_groups.c.status).order_by(alert_groups.c.id)
            )
        ]
    assert statuses == ["resolved", "firing"]  # the same alert fires again: a new group


async def test_with_redis_down_every_delivery_is_kept_in_the_database(
    slack_api: FakeSlackAPI, database_url: str
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    env = {"SENTRY_CLIENT_SECRET": SECRET, "REDIS_URL": f"redis://127.0.0.1:{closed}/0"}
    async with running_bot(slack_api, database_url, FAST, **env) as bot:
        body = issue_alert(9)
        for _ in range(5):
            response = await deliver(bot, body, "event_alert")
            assert response.status == 200
            await bot.settle()
        assert await _count(bot, deliveries()) == 5
        assert await _count(bot, group_count()) == 5


async def _namespace(bot: Bot) -> str:
    async with bot.runtime.engine.connect() as conn:
        return str((await conn.execute(sa.select(deployment.c.namespace))).scalar_one())


async def _groups(bot: Bot) -> list[tuple[str, str, int, str]]:
    async with bot.runtime.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(
                alert_groups.c.key,
                alert_groups.c.title,
                alert_groups.c.count,
                alert_groups.c.source,
            ).order_by(alert_groups.c.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_marker_the_database_does_not_back_loses_no_alert(bot: Bot, redis_url: str) -> None:
    """A database restored while Redis kept its keys: the marker says "firing", the database
    has no group. Every delivery answered `counted` ends up in a group, shown in Slack, and
    the next delivery through the inbox says what the alert is."""
    raw = aioredis.from_url(redis_url)
    try:
        await raw.set(f"lucia:{await _namespace(bot)}:firing:sentry:issue:77", 1, ex=600)
    finally:
        await raw.aclose()
    body = issue_alert(77)
    answers = [await (await deliver(bot, body, "event_alert")).json() for _ in range(3)]
    assert answers == [{"counted": True}] * 3  # Redis believed it, as it may

    async def restored() -> list[tuple[str, str, int, str]]:
        async with asyncio.timeout(10):
            while not (found := await _groups(bot)):  # noqa: ASYNC110 - the fold's own timer
                await asyncio.sleep(0.1)
        return found

    assert await restored() == [
        ("sentry:issue:77", "Sentry issue 77 (details come with its next event)", 3, "restored")
    ]
    await shown(bot.slack.channels[ALERTS], "×3")
    # The stale marker was dropped: the next delivery is kept and fills the group in.
    assert "accepted" in await (await deliver(bot, body, "event_alert")).json()
    await bot.settle()
    [(key, title, count, source)] = await _groups(bot)
    assert (key, count, source) == ("sentry:issue:77", 4, "sentry")
    assert "details come" not in title


async def test_another_deployments_keys_are_never_read(bot: Bot, redis_url: str) -> None:
    """Staging and production on one Upstash database: production's marker and counts for
    the same Sentry issue neither count this bot's deliveries nor fold into its groups."""
    raw = aioredis.from_url(redis_url)
    try:
        await raw.set("lucia:production:firing:sentry:issue:5", 1, ex=600)
        await raw.hset("lucia:production:repeats", "sentry:issue:5", 40)
        await raw.set("lucia:firing:sentry:issue:5", 1, ex=600)  # the old, unnamespaced key
        assert "accepted" in await (await deliver(bot, issue_alert(5), "event_alert")).json()
        await bot.settle()
        await asyncio.sleep(1.5)  # a fold or two
        assert [(k, c) for k, _, c, _ in await _groups(bot)] == [("sentry:issue:5", 1)]
        assert await raw.hget("lucia:production:repeats", "sentry:issue:5") == b"40"
    finally:
        await raw.aclose()


@pytest.mark.parametrize(("applied", "count"), [(True, 4), (False, 7)])
async def test_counts_left_in_redis_by_a_fold_that_committed_are_not_counted_again(
    bot: Bot, redis_url: str, applied: bool, count: int
) -> None:
    """A folder committed its counts, then lost Redis before it could clear them: the next
    fold takes the same counts under the same fold id, and the database says it has them."""
    assert "accepted" in await (await deliver(bot, issue_alert(41), "event_alert")).json()
    await bot.settle()
    prefix = f"lucia:{await _namespace(bot)}:"
    async with bot.runtime.engine.begin() as conn:  # what the folder that died committed
        await conn.execute(sa.update(alert_groups).values(count=alert_groups.c.count + 3))
        if applied:
            await conn.execute(sa.update(deployment).values(last_fold="f00d"))
    raw = aioredis.from_url(redis_url)
    try:  # and what it left in Redis
        await raw.hset(prefix + "folding", "sentry:issue:41", 3)
        await raw.hset(prefix + "folding:seen", "sentry:issue:41", 1_765_000_000)
        await raw.set(prefix + "folding:id", "f00d")
        bot.runtime.repeat_folder.kick()
        await bot.settle()
        assert await raw.exists(prefix + "folding", prefix + "folding:id") == 0
    finally:
        await raw.aclose()
    assert [c for _, _, c, _ in await _groups(bot)] == [count]
