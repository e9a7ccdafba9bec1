"""Routing rules: which alerts open an incident at what severity, and whom it pages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.alerts.model import AlertSignal
from bot.alerts.routing import route_for
from bot.config import AlertMatch, AlertRoute, LuciaConfig
from bot.store.tables import alert_deliveries, alert_groups, incidents, timeline_events
from bot.vocabulary import Severity
from tests.drivers.alerts import ALERTS, FAST, ROUTES, fatal_alert
from tests.drivers.bot import Bot, running_bot
from tests.drivers.payloads import sentry_fixture
from tests.drivers.sentry import SECRET, deliver
from tests.drivers.waiting import until
from tests.fakes.slack_api import FakeSlackAPI


def signal(**changes: object) -> AlertSignal:
    base: dict[str, object] = dict(
        key="k",
        firing=True,
        title="t",
        level="error",
        project="front-end",
        environment="production",
        rule="",
        url="",
        source="sentry",
        resource="event_alert",
        action="triggered",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        tags={},
    )
    return AlertSignal(**(base | changes))  # type: ignore[arg-type]


def test_the_first_matching_rule_decides() -> None:
    assert route_for(signal(level="fatal"), ROUTES) is ROUTES[0]
    assert route_for(signal(level="FATAL"), ROUTES) is ROUTES[0]
    assert route_for(signal(level="fatal", environment="staging"), ROUTES) is None
    assert route_for(signal(project="admin"), ROUTES) is ROUTES[1]
    assert route_for(signal(), ROUTES) is None


def test_tags_must_all_match() -> None:
    routes = [AlertRoute(match=AlertMatch(tags={"service": "engine", "region": "eu"}))]
    assert route_for(signal(tags={"service": "engine", "region": "eu", "x": "y"}), routes)
    assert route_for(signal(tags={"service": "engine"}), routes) is None


def test_an_incident_route_needs_a_severity() -> None:
    with pytest.raises(ValueError, match="needs a severity"):
        AlertRoute(action="incident")


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str) -> AsyncIterator[Bot]:
    config = LuciaConfig(routing=ROUTES)
    async with running_bot(slack_api, database_url, config, SENTRY_CLIENT_SECRET=SECRET) as b:
        yield b


async def rows(bot: Bot, query: sa.Select[tuple[object, ...]]) -> list[dict[str, object]]:
    async with bot.runtime.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]


async def kinds(bot: Bot, number: int) -> list[str]:
    query = (
        sa.select(timeline_events.c.kind)
        .where(timeline_events.c.incident_number == number)
        .order_by(timeline_events.c.id)
    )
    return [str(r["kind"]) for r in await rows(bot, query)]


async def test_a_matching_alert_opens_an_incident_that_requests_pages(bot: Bot) -> None:
    assert (await deliver(bot, fatal_alert(), "event_alert")).status == 200

    async def opened() -> bool:
        return bool(await rows(bot, sa.select(incidents)))

    await until(opened)
    await bot.settle()
    (incident,) = await rows(bot, sa.select(incidents))
    assert incident["severity"] == "sev1"
    assert incident["opened_by"] == "lucia"
    assert incident["title"] == "Checkout crashes on submit"
    assert incident["channel_id"] is not None
    (group,) = await rows(bot, sa.select(alert_groups))
    assert group["incident_number"] == incident["number"]
    assert group["route_state"] == "done"
    assert incident["alert_group_id"] == group["id"]
    events = await kinds(bot, 1)
    assert events[:3] == ["declared", "page_requested", "channel_created"]
    page = await rows(
        bot,
        sa.select(timeline_events.c.text, timeline_events.c.data).where(
            timeline_events.c.kind == "page_requested"
        ),
    )
    assert page[0]["data"] == {"roles": "infra,owner"}


async def repeats_then_resolve(bot: Bot) -> list[str]:
    """A routed alert, five repeats, then Sentry resolves it; the incident's alert notes."""
    await deliver(bot, fatal_alert(), "event_alert")

    async def linked() -> bool:
        return any(g["incident_number"] for g in await rows(bot, sa.select(alert_groups)))

    await until(linked)
    for _ in range(5):
        await deliver(bot, fatal_alert(), "event_alert")

    async def notes() -> list[str]:
        query = (
            sa.select(timeline_events.c.text)
            .where(timeline_events.c.kind == "alert")
            .order_by(timeline_events.c.id)
        )
        return [str(n["text"]) for n in await rows(bot, query)]

    await until(notes)  # through the inbox at once; from Redis at the next fold
    resolved = json.loads(sentry_fixture("issue.resolved.json"))
    resolved["data"]["issue"]["id"] = "777"
    await deliver(bot, json.dumps(resolved).encode(), "issue")

    async def resolve_noted() -> bool:
        return len(await notes()) >= 2

    await until(resolve_noted)
    await asyncio.sleep(0.2)
    await bot.settle()
    return await notes()


async def test_repeats_are_noted_throttled_and_a_resolve_is_noted(bot: Bot) -> None:
    texts = await repeats_then_resolve(bot)
    assert len(texts) == 2  # one repeat note (throttled), one resolve
    assert texts[0].startswith("The alert keeps firing: ×")
    assert texts[1].startswith("Sentry resolved the alert")


async def test_repeats_counted_in_redis_are_noted_too(
    slack_api: FakeSlackAPI, database_url: str, redis_url: str
) -> None:
    config = LuciaConfig(routing=ROUTES)
    env = {"SENTRY_CLIENT_SECRET": SECRET, "REDIS_URL": redis_url}
    async with running_bot(slack_api, database_url, config, **env) as bot:
        texts = await repeats_then_resolve(bot)
        kept = await rows(bot, sa.select(alert_deliveries))
    assert len(kept) == 2  # the first and the resolve: the repeats were counted in Redis
    assert len(texts) == 2
    assert texts[0].startswith("The alert keeps firing: ×")
    assert texts[1] == "Sentry resolved the alert: Checkout crashes on submit (×6)"


async def test_an_alert_no_rule_routes_opens_nothing(bot: Bot) -> None:
    await deliver(bot, fatal_alert(level="error"), "event_alert")
    await bot.settle()
    await asyncio.sleep(0.3)
    await bot.settle()
    assert await rows(bot, sa.select(incidents)) == []
    (group,) = await rows(bot, sa.select(alert_groups))
    assert group["route_state"] is None


async def test_opening_twice_for_one_alert_gives_one_incident(bot: Bot) -> None:
    """The router may run again after a crash mid-open: the alert still has one incident."""
    service = bot.runtime.incidents
    opened = [
        await service.open_for_alert(
            alert_group_id=41, title="Engine down", severity=Severity.SEV2, description="", page=()
        )
        for _ in range(2)
    ]
    assert opened[0].number == opened[1].number
    assert len(await rows(bot, sa.select(incidents))) == 1


CRITICAL_ONLY = [
    AlertRoute(
        match=AlertMatch(level=["critical"]),
        action="incident",
        severity=Severity.SEV1,
        page=["infra"],
    )
]


@pytest.fixture
async def critical_bot(slack_api: FakeSlackAPI, database_url: str) -> AsyncIterator[Bot]:
    """A bot whose one rule opens an incident for critical alerts."""
    slack_api.add_channel("alerts", channel_id=ALERTS)
    config = FAST.model_copy(update={"routing": CRITICAL_ONLY})
    env = {"SENTRY_CLIENT_SECRET": SECRET, "LUCIA_ALERTS_CHANNEL": ALERTS}
    async with running_bot(slack_api, database_url, config, **env) as running:
        yield running


async def test_a_metric_alert_that_escalates_reaches_its_critical_rule(critical_bot: Bot) -> None:
    warning = json.loads(sentry_fixture("metric_alert.critical.json"))
    warning["action"] = "warning"
    await deliver(critical_bot, json.dumps(warning).encode(), "metric_alert")
    await critical_bot.settle()
    assert await rows(critical_bot, sa.select(incidents)) == []
    await deliver(critical_bot, sentry_fixture("metric_alert.critical.json"), "metric_alert")
    async with asyncio.timeout(10):
        while not await rows(critical_bot, sa.select(incidents)):  # noqa: ASYNC110 - router timer
            await asyncio.sleep(0.1)
    (group,) = await rows(critical_bot, sa.select(alert_groups))
    assert group["level"] == "critical"
    assert group["title"] == "Critical: My Metric Alert"
