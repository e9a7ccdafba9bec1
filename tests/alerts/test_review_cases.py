"""Cases a review found: a bad delivery must not block the inbox, a metric alert that
escalates must reach its rule, a silenced alert's resolve must still show."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.config import AlertMatch, AlertRoute
from bot.incidents.model import Severity
from bot.store.tables import alert_deliveries, alert_groups, incidents
from tests.drivers.alerts import ALERTS, FAST, issue_alert, shown
from tests.drivers.bot import Bot, running_bot
from tests.drivers.payloads import sentry_fixture
from tests.drivers.sentry import SECRET, deliver, signed
from tests.fakes.slack_api import FakeSlackAPI

CRITICAL_ONLY = [
    AlertRoute(
        match=AlertMatch(level=["critical"]),
        action="incident",
        severity=Severity.SEV1,
        page=["infra"],
    )
]


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str) -> AsyncIterator[Bot]:
    slack_api.add_channel("alerts", channel_id=ALERTS)
    config = FAST.model_copy(update={"routing": CRITICAL_ONLY})
    env = {"SENTRY_CLIENT_SECRET": SECRET, "LUCIA_ALERTS_CHANNEL": ALERTS}
    async with running_bot(slack_api, database_url, config, **env) as running:
        yield running


async def rows(bot: Bot, query: sa.Select[tuple[object, ...]]) -> list[dict[str, object]]:
    async with bot.runtime.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]


async def test_a_delivery_that_fails_does_not_block_the_ones_behind_it(bot: Bot) -> None:
    bad = json.loads(sentry_fixture("event_alert.triggered.json"))
    bad["data"]["event"]["issue_id"] = "9" * 300  # a key longer than the column
    await deliver(bot, json.dumps(bad).encode(), "event_alert")
    await deliver(bot, issue_alert(2), "event_alert")
    await bot.settle()
    outcomes = [
        r["outcome"]
        for r in await rows(
            bot, sa.select(alert_deliveries.c.outcome).order_by(alert_deliveries.c.id)
        )
    ]
    assert outcomes[1] == "new"  # the good one behind it was read
    assert outcomes[0] in ("failed", "new")  # Postgres refuses the key; SQLite doesn't care


async def test_a_metric_alert_that_escalates_reaches_its_critical_rule(bot: Bot) -> None:
    warning = json.loads(sentry_fixture("metric_alert.critical.json"))
    warning["action"] = "warning"
    await deliver(bot, json.dumps(warning).encode(), "metric_alert")
    await bot.settle()
    assert await rows(bot, sa.select(incidents)) == []
    await deliver(bot, sentry_fixture("metric_alert.critical.json"), "metric_alert")
    async with asyncio.timeout(10):
        while not await rows(bot, sa.select(incidents)):  # noqa: ASYNC110 - router timer
            await asyncio.sleep(0.1)
    (group,) = await rows(bot, sa.select(alert_groups))
    assert group["level"] == "critical"
    assert group["title"] == "Critical: My Metric Alert"


async def test_a_resolve_during_a_silence_still_shows_resolved(bot: Bot) -> None:
    await deliver(bot, issue_alert(1638821441), "event_alert")
    alerts = bot.slack.channels[ALERTS]
    await shown(alerts, "1 alert firing")
    await bot.command("alerts silence front-end 1h", response_key="s")
    await bot.settle()
    await deliver(bot, sentry_fixture("issue.resolved.json"), "issue")
    await shown(alerts, "Resolved")


async def test_a_timestamp_that_is_not_a_number_is_refused(bot: Bot) -> None:
    body = sentry_fixture("event_alert.triggered.json")
    for stamp in ("nan", "inf", "1e12"):
        headers = signed(body) | {"Sentry-Hook-Timestamp": stamp}
        response = await bot.client.post("/webhooks/sentry", data=body, headers=headers)
        assert response.status == 401
