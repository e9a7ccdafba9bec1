"""Slack answering 429 (with Retry-After) and then 5xx for a while. Alert messages come
late but are never doubled or dropped, and end up saying what the database holds; an
incident opened while Slack fails says what it couldn't do, and the next command on it
finishes the rest, once."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.drivers.slack import INCIDENTS_CHANNEL
from tests.faults.sentry_load import flood, mixed
from tests.faults.slack_requests import slash, wait_answer
from tests.faults.stack import ALERTS_CHANNEL, ANA, GENERAL_CHANNEL, Stack
from tests.faults.tally import alert_tally, notice_problems, rows, settle_alerts

MESSAGES = ("chat.postMessage", "chat.update")


@pytest.mark.timeout(40)
async def test_alert_messages_through_429s_and_5xx_are_late_never_doubled_or_wrong(
    stack: Stack,
) -> None:
    bot = await stack.bot()
    prefix = await stack.prefix()

    async def slack_down() -> None:
        stack.slack.outage(MESSAGES, 1.5, status=429, error="ratelimited", retry_after=1)
        await asyncio.sleep(1.5)
        stack.slack.outage(MESSAGES, 1.5, status=500, error="internal_error", retry_after=None)

    webhooks = mixed(range(9401, 9406), 9, project="checkout") + mixed(
        range(9406, 9411), 9, project="search"
    )
    ledger, _ = await asyncio.gather(flood(bot.base, webhooks, 40), slack_down())
    pending = await settle_alerts(stack.database_url, stack.redis.url, prefix, limit=25)
    tally = await alert_tally(stack.database_url, ledger, pending)

    assert {s for _, s, _ in stack.slack.refused} == {429, 500}, "the outage was never met"
    assert ledger.statuses() == {200: 100}, tally.report(ledger)
    assert tally.lost == tally.duplicated == 0, tally.report(ledger)
    assert not pending, f"{pending}\n{bot.log_summary()}"
    problems = await notice_problems(stack.database_url, stack.slack, ALERTS_CHANNEL)
    assert problems == [], f"{problems}\n{bot.log_summary()}"
    notices = await rows(stack.database_url, "SELECT group_by FROM alert_notices")
    assert len(notices) == 2, notices  # one message per project, as Alertmanager groups


@pytest.mark.timeout(40)
async def test_an_incident_opened_while_slack_fails_says_so_and_is_finished_once(
    stack: Stack,
) -> None:
    bot = await stack.bot()
    stack.slack.outage("conversations.create", 3, status=500, error="internal_error")
    await slash(bot.base, stack.slack, "incident open sev2 Search is down", key="open", user=ANA)
    opened = await wait_answer(stack.slack, "open")
    # Only what exists is claimed: no channel that Slack didn't make.
    for channel in re.findall(r"<#(C\w+)", opened):
        assert channel in stack.slack.channels, opened
    assert "couldn't create the incident channel" in opened, opened
    assert await rows(stack.database_url, "SELECT number FROM incidents") == [{"number": 1}]

    await asyncio.sleep(3)  # Slack is back
    await slash(bot.base, stack.slack, "incident update #1 Rebuilding the index", key="upd")
    await wait_answer(stack.slack, "upd")
    await asyncio.sleep(1)
    made = [c for c in stack.slack.channels.values() if c.name.startswith("inc-1")]
    assert len(made) == 1, [c.name for c in stack.slack.channels.values()]
    (incident,) = await rows(stack.database_url, "SELECT channel_id, card_ts FROM incidents")
    assert incident["channel_id"] == made[0].id
    cards = [m for m in made[0].messages if m["ts"] == incident["card_ts"]]
    assert len(cards) == 1
    announced = [m for m in stack.slack.channels[INCIDENTS_CHANNEL].messages if m.get("bot_id")]
    assert len(announced) == 1, [m["text"] for m in announced]
    # The person who asked is told once where it is, nothing is posted twice anywhere.
    for channel in (*made, stack.slack.channels[GENERAL_CHANNEL]):
        texts = [m["text"] for m in channel.messages if m.get("bot_id")]
        assert len(texts) == len(set(texts)), texts
