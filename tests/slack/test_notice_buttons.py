"""The alert message's buttons, clicked as Slack sends them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.store.tables import alert_groups, incidents, silences
from tests.drivers.alerts import ALERTS, FAST, issue_alert, shown
from tests.drivers.bot import Bot, running_bot
from tests.drivers.sentry import SECRET, deliver
from tests.drivers.waiting import until_true
from tests.fakes.slack_api import FakeSlackAPI


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str) -> AsyncIterator[Bot]:
    slack_api.add_channel("alerts", channel_id=ALERTS)
    env = {"SENTRY_CLIENT_SECRET": SECRET, "LUCIA_ALERTS_CHANNEL": ALERTS}
    async with running_bot(slack_api, database_url, FAST, **env) as running:
        await deliver(running, issue_alert(1), "event_alert")
        await shown(slack_api.channels[ALERTS], "1 alert firing")
        yield running


def buttons(bot: Bot) -> list[str]:
    message = bot.slack.channels[ALERTS].messages[0]
    actions = [b for b in message["blocks"] if b["type"] == "actions"]
    return [e["action_id"] for e in actions[0]["elements"]] if actions else []


async def click(bot: Bot, action: str, key: str, user: str = "U01BOBBY00") -> str:
    await bot.click(action, "1", user=user, channel=ALERTS, response_key=key)
    await bot.settle()
    return str(bot.slack.response_posts[-1].body["text"])


async def test_the_message_has_the_three_buttons(bot: Bot) -> None:
    assert buttons(bot) == ["lucia_alert_open", "lucia_alert_ack", "lucia_alert_silence"]


async def test_acknowledge_shows_who_and_only_once(bot: Bot) -> None:
    assert "Acknowledged these alerts" in await click(bot, "lucia_alert_ack", "a")
    alerts = bot.slack.channels[ALERTS]
    await shown(alerts, "Acknowledged by <@U01BOBBY00>")
    await until_true(lambda: "lucia_alert_ack" not in buttons(bot))
    assert "already acknowledged" in await click(bot, "lucia_alert_ack", "b", user="U01ALICE00")


async def test_silence_1h_silences_the_project(bot: Bot) -> None:
    answer = await click(bot, "lucia_alert_silence", "s")
    assert "Silenced front-end for 1 h" in answer
    async with bot.runtime.engine.connect() as conn:
        (row,) = (await conn.execute(sa.select(silences))).mappings().all()
    assert row["project"] == "front-end"
    assert row["created_by"] == "U01BOBBY00"


async def test_open_incident_opens_one_led_by_the_clicker(bot: Bot) -> None:
    answer = await click(bot, "lucia_alert_open", "o")
    assert "Opened INC-1 (SEV2)" in answer
    async with bot.runtime.engine.connect() as conn:
        (incident,) = (await conn.execute(sa.select(incidents))).mappings().all()
        (group,) = (await conn.execute(sa.select(alert_groups))).mappings().all()
    assert incident["lead"] == "U01BOBBY00"
    assert incident["opened_by"] == "U01BOBBY00"
    assert group["incident_number"] == 1
    channel = bot.slack.channel_by_name("inc-1-typeerror-number-1")
    assert channel is not None
    assert "U01BOBBY00" in channel.members
    assert "already INC-1" in await click(bot, "lucia_alert_open", "o2")
    assert json.dumps(bot.slack.channels[ALERTS].messages[0]).count("Open incident") == 1
