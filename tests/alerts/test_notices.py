"""Alert groups reach Slack as a few messages that update, not a flood."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from tests.drivers.alerts import ALERTS, FAST, issue_alert, shown
from tests.drivers.bot import Bot, running_bot
from tests.drivers.payloads import sentry_fixture
from tests.drivers.sentry import SECRET, deliver
from tests.drivers.waiting import until_true
from tests.fakes.slack_api import FakeSlackAPI


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str) -> AsyncIterator[Bot]:
    slack_api.add_channel("alerts", channel_id=ALERTS)
    env = {"SENTRY_CLIENT_SECRET": SECRET, "LUCIA_ALERTS_CHANNEL": ALERTS}
    async with running_bot(slack_api, database_url, FAST, **env) as running:
        yield running


async def test_a_flood_of_distinct_alerts_becomes_one_message_per_project(bot: Bot) -> None:
    sends = [deliver(bot, issue_alert(i), "event_alert") for i in range(60)]
    sends += [deliver(bot, issue_alert(1000 + i, "admin"), "event_alert") for i in range(5)]
    assert {r.status for r in await asyncio.gather(*sends)} == {200}
    alerts = bot.slack.channels[ALERTS]
    await shown(alerts, "60 alerts firing")
    await shown(alerts, "5 alerts firing")
    assert len(alerts.messages) == 2
    posts = [c for c in bot.slack.calls_to("chat.postMessage") if c.args["channel"] == ALERTS]
    assert len(posts) == 2


async def test_repeats_update_the_one_message_a_bounded_number_of_times(bot: Bot) -> None:
    body = issue_alert(7)
    for _ in range(10):
        await asyncio.gather(*(deliver(bot, body, "event_alert") for _ in range(30)))
    alerts = bot.slack.channels[ALERTS]
    await shown(alerts, "×300")
    assert len(alerts.messages) == 1
    updates = bot.slack.calls_to("chat.update")
    assert len(updates) < 30  # 300 deliveries, a handful of updates


async def test_resolving_in_sentry_shows_resolved_and_a_new_alert_starts_a_new_message(
    bot: Bot,
) -> None:
    critical = sentry_fixture("metric_alert.critical.json")
    await deliver(bot, critical, "metric_alert")
    alerts = bot.slack.channels[ALERTS]
    await shown(alerts, "1 alert firing")
    resolved = json.loads(sentry_fixture("metric_alert.resolved.json"))
    resolved["data"]["metric_alert"]["alert_rule"]["id"] = "7"
    resolved["data"]["metric_alert"]["identifier"] = "1"
    resolved["data"]["metric_alert"]["projects"] = ["my-proj"]
    await deliver(bot, json.dumps(resolved).encode(), "metric_alert")
    await shown(alerts, "Resolved")
    await deliver(bot, critical, "metric_alert")  # fires again: a fresh message
    await until_true(lambda: len(alerts.messages) == 2)
    assert "1 alert firing" in json.dumps(alerts.messages[1])


async def test_a_rate_limit_delays_the_update_but_the_final_state_is_shown(bot: Bot) -> None:
    body = issue_alert(9)
    await deliver(bot, body, "event_alert")
    alerts = bot.slack.channels[ALERTS]
    await shown(alerts, "×1 ")
    bot.slack.fail_next("chat.update", "ratelimited", status=429, retry_after=1, times=5)
    await asyncio.gather(*(deliver(bot, body, "event_alert") for _ in range(20)))
    await shown(alerts, "×21 ", limit=20)
    assert len(alerts.messages) == 1


async def test_without_an_alerts_channel_groups_are_kept_but_not_posted(
    slack_api: FakeSlackAPI, database_url: str
) -> None:
    async with running_bot(slack_api, database_url, FAST, SENTRY_CLIENT_SECRET=SECRET) as bot:
        assert (await deliver(bot, issue_alert(1), "event_alert")).status == 200
        await asyncio.sleep(1.5)
        await bot.settle()
    assert slack_api.calls_to("chat.postMessage") == []
