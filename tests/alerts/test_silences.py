"""`/lucia alerts`, silences: silenced alerts are counted and kept, not posted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.store.alert_store import SqlAlertStore
from bot.store.tables import alert_groups, incidents
from tests.drivers.alerts import ALERTS, FAST, ROUTES, fatal_alert, issue_alert, shown
from tests.drivers.bot import Bot, running_bot
from tests.drivers.payloads import sentry_fixture
from tests.drivers.sentry import SECRET, deliver
from tests.fakes.slack_api import FakeSlackAPI


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str) -> AsyncIterator[Bot]:
    slack_api.add_channel("alerts", channel_id=ALERTS)
    config = FAST.model_copy(update={"routing": ROUTES})
    env = {"SENTRY_CLIENT_SECRET": SECRET, "LUCIA_ALERTS_CHANNEL": ALERTS}
    async with running_bot(slack_api, database_url, config, **env) as running:
        yield running


async def say(bot: Bot, text: str, key: str) -> str:
    response = await bot.command(text, response_key=key)
    body = await response.json() if response.content_type == "application/json" else {}
    await bot.settle()
    answers = await bot.answers(key)
    return answers[-1] if answers else str(body.get("text", ""))


async def test_alerts_lists_what_is_firing(bot: Bot) -> None:
    assert "No alerts firing" in await say(bot, "alerts", "empty")
    await deliver(bot, issue_alert(1), "event_alert")
    await bot.settle()
    listing = await say(bot, "alerts", "list")
    assert listing == "1 alert firing"
    blocks = json.dumps(bot.slack.response_posts[-1].body, ensure_ascii=False)
    assert "`A1`" in blocks
    assert "TypeError number 1" in blocks


async def test_a_silenced_project_is_counted_but_not_posted(bot: Bot) -> None:
    await deliver(bot, issue_alert(1), "event_alert")
    alerts = bot.slack.channels[ALERTS]
    await shown(alerts, "1 alert firing")
    answer = await say(bot, "alerts silence front-end 1h deploy in progress", "silence")
    assert "Silenced project front-end until" in answer
    assert "S1" in answer

    await deliver(bot, issue_alert(2), "event_alert")
    await deliver(bot, issue_alert(1), "event_alert")
    await asyncio.sleep(1.5)  # longer than group_wait and update_interval
    await bot.settle()
    assert len(alerts.messages) == 1
    assert "TypeError number 2" not in json.dumps(alerts.messages, ensure_ascii=False)
    async with bot.runtime.engine.connect() as conn:
        counts = dict(
            (await conn.execute(sa.select(alert_groups.c.id, alert_groups.c.count))).all()
        )
    assert counts == {1: 2, 2: 1}  # kept and counted
    await say(bot, "alerts", "with-silence")
    listing = json.dumps(bot.slack.response_posts[-1].body)
    assert "`S1`" in listing
    assert "deploy in progress" in listing

    assert "Lifted silence S1" in await say(bot, "alerts unsilence S1", "lift")
    await deliver(bot, issue_alert(3), "event_alert")
    await shown(alerts, "TypeError number 3")


async def test_a_silenced_alert_opens_no_incident(bot: Bot) -> None:
    await say(bot, "alerts silence front-end 30m", "silence")
    await deliver(bot, fatal_alert(), "event_alert")
    await asyncio.sleep(1.2)
    await bot.settle()
    async with bot.runtime.engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(incidents))).scalar() == 0


async def test_bad_silences_get_clear_answers(bot: Bot) -> None:
    assert "There is no alert group A99" in await say(bot, "alerts silence A99 1h", "a")
    assert "S7 isn't an active silence" in await say(bot, "alerts unsilence S7", "b")
    assert "isn't a duration" in await say(bot, "alerts silence front-end soon", "c")


async def test_expired_and_lifted_silences_are_not_active(bot: Bot) -> None:
    store = SqlAlertStore(bot.runtime.engine, lambda: datetime.now(UTC))
    now = datetime.now(UTC)
    await store.add_silence(
        None, "front-end", "", "U1", now - timedelta(hours=2), now - timedelta(hours=1)
    )
    lifted = await store.add_silence(None, "admin", "", "U1", now, now + timedelta(hours=1))
    await store.lift_silence(lifted.id, "U2", now)
    live = await store.add_silence(None, "engine", "", "U1", now, now + timedelta(hours=1))
    assert [s.id for s in await store.active_silences(now)] == [live.id]


async def test_a_resolve_during_a_silence_still_shows_resolved(bot: Bot) -> None:
    await deliver(bot, issue_alert(1638821441), "event_alert")
    alerts = bot.slack.channels[ALERTS]
    await shown(alerts, "1 alert firing")
    await bot.command("alerts silence front-end 1h", response_key="s")
    await bot.settle()
    await deliver(bot, sentry_fixture("issue.resolved.json"), "issue")
    await shown(alerts, "Resolved")
