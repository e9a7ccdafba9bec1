"""Postgres failing under a Sentry flood — refused, hung (a black hole), its connections
terminated or cut — and a person opening an incident while it is down. Every webhook is
answered within Sentry's second, 2xx only when kept (else 503); every 2xx ends up counted
on its group once; and a command that failed in the outage can be retried at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from tests.faults.sentry_load import BUDGET, firing, flood, mixed
from tests.faults.slack_requests import slash, wait_answer
from tests.faults.stack import ALERTS_CHANNEL, ANA, Stack
from tests.faults.tally import alert_tally, notice_problems, rows, settle_alerts

ISSUES = range(8001, 8016)  # 15 alert groups
REPEATS = 15  # 240 webhooks in all
RATE = 120.0  # webhooks per second: 2 s of flood, and on until the fault heals
FAULT_AT = 0.6  # seconds into the flood: the groups exist and repeats go through Redis
FAULT_FOR = 1.1  # seconds a pause or a hang lasts: longer than Sentry's whole budget


async def _terminate_backends(database_url: str) -> int:
    """`pg_terminate_backend` on every connection to the bot's database but this one."""
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        return len(
            await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


async def _refused(stack: Stack) -> None:
    await stack.pg_proxy.refuse()
    await asyncio.sleep(FAULT_FOR)
    await stack.pg_proxy.resume()


async def _hung(stack: Stack) -> None:
    stack.pg_proxy.hang()
    await asyncio.sleep(FAULT_FOR)
    await stack.pg_proxy.resume()


async def _terminated(stack: Stack) -> None:
    for _ in range(3):
        await _terminate_backends(stack.database_url)
        await asyncio.sleep(0.4)


async def _cut(stack: Stack) -> None:
    for _ in range(3):
        await stack.pg_proxy.drop_connections()
        await asyncio.sleep(0.5)


FAULTS: dict[str, Callable[[Stack], Awaitable[None]]] = {
    "refused": _refused,
    "hung": _hung,
    "backends-terminated": _terminated,
    "connections-cut": _cut,
}


@pytest.mark.timeout(40)
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_postgres_fault_mid_flood_answers_in_time_and_loses_no_2xx(
    stack: Stack, fault: str
) -> None:
    bot = await stack.bot()
    prefix = await stack.prefix()
    healed, healed_at = asyncio.Event(), 0.0

    async def inject() -> None:
        nonlocal healed_at
        await asyncio.sleep(FAULT_AT)
        await FAULTS[fault](stack)
        healed_at = time.monotonic()
        healed.set()

    webhooks = mixed(ISSUES, REPEATS)
    ledger, _ = await asyncio.gather(
        flood(bot.base, webhooks, RATE, until=healed, tail=0.8), inject()
    )
    pending = await settle_alerts(stack.database_url, stack.redis.url, prefix)
    tally = await alert_tally(stack.database_url, ledger, pending)
    report = tally.report(ledger)

    assert set(ledger.statuses()) <= {200, 503}, report
    assert not ledger.slow(), f"answered after {BUDGET} s: {report}"
    assert tally.lost == 0, report
    assert tally.duplicated == 0, report
    assert tally.split_groups == 0, report
    assert not tally.stray_keys, report
    assert not pending, f"{report}\n{bot.log_summary()}"
    # Healed means healed: what was sent half a second after the fault ended was kept.
    after = [a for a in ledger.answers if a.sent_at > healed_at + 0.5]
    assert after, "the flood ended before the fault did"
    assert all(a.status == 200 for a in after), [
        (a.status, a.body) for a in after if a.status != 200
    ]
    problems = await notice_problems(stack.database_url, stack.slack, ALERTS_CHANNEL)
    assert problems == [], f"{problems}\n{bot.log_summary()}"


DATABASE_DOWN = "I can't reach the database"
DUPLICATE = "so I didn't open a second one"


@pytest.mark.timeout(30)
async def test_an_incident_open_that_failed_in_an_outage_can_be_retried_at_once(
    stack: Stack,
) -> None:
    """The person is told it didn't go through; the same command, retyped when the
    database is back, opens the incident — one, not zero (a guard that remembered the
    failed try) and not two (a guard that forgot the one that worked)."""
    bot = await stack.bot()
    command = "incident open sev2 Payments API returns 502"
    await stack.pg_proxy.refuse()
    assert await slash(bot.base, stack.slack, command, key="try1", user=ANA) == 200
    first = await wait_answer(stack.slack, "try1")
    await stack.pg_proxy.resume()
    assert DATABASE_DOWN in first, first
    assert await rows(stack.database_url, "SELECT number FROM incidents") == []

    assert await slash(bot.base, stack.slack, command, key="try2", user=ANA) == 200
    second = await wait_answer(stack.slack, "try2")
    assert DUPLICATE not in second, f"the failed try blocked the retry: {second}"
    opened = await rows(stack.database_url, "SELECT number, title, opened_by FROM incidents")
    assert opened == [{"number": 1, "title": "Payments API returns 502", "opened_by": ANA}]

    assert await slash(bot.base, stack.slack, command, key="try3", user=ANA) == 200
    third = await wait_answer(stack.slack, "try3")
    assert DUPLICATE in third, third  # the one that worked still guards against a double
    assert len(await rows(stack.database_url, "SELECT number FROM incidents")) == 1
    cards = [
        m
        for channel in stack.slack.channels.values()
        for m in channel.messages
        if "Payments API returns 502" in str(m.get("text", ""))
    ]
    assert cards, "the incident was opened but nothing in Slack shows it"


@pytest.mark.timeout(30)
async def test_a_database_blip_while_an_alert_message_is_posted_leaves_it_neither_stale_nor_doubled(
    stack: Stack,
) -> None:
    """The sender has claimed the alert notice and is posting it when the database goes
    away for a second, so what Slack answered can't be recorded. Once the database is
    back, the message must catch up with the alerts that came since — not stay stale for
    the claim's whole lease, and not be posted a second time when the lease runs out."""
    bot = await stack.bot()
    prefix = await stack.prefix()
    stack.slack.delay("chat.postMessage", 1.0)  # the post is in flight for a second
    ledger = await flood(bot.base, [firing(8101)], 1)
    await stack.slack.wait_for("chat.postMessage")
    await stack.pg_proxy.refuse()  # ...and its answer is recorded into no database
    await asyncio.sleep(1.5)
    await stack.pg_proxy.resume()
    stack.slack.delay("chat.postMessage", 0)
    ledger += await flood(bot.base, [firing(8101) for _ in range(5)], 10)
    pending = await settle_alerts(stack.database_url, stack.redis.url, prefix, limit=8)
    tally = await alert_tally(stack.database_url, ledger, pending)

    assert ledger.statuses() == {200: 6}, tally.report(ledger)
    assert tally.counted == {"sentry:issue:8101": 6}, tally.report(ledger)
    problems = await notice_problems(stack.database_url, stack.slack, ALERTS_CHANNEL)
    assert problems == [], f"{problems}\n{bot.log_summary()}"
    assert not pending, f"{pending}\n{bot.log_summary()}"
