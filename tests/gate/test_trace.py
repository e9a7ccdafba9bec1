"""The alert pipeline trace (`/lucia gate trace`) through a running bot on 127.0.0.1: a
signed synthetic Sentry webhook to its public URL, each hop read from its database, and
nobody paged — even with a rule that opens a SEV1 incident for every alert."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.config import (
    AlertMatch,
    AlertRoute,
    AlertsConfig,
    EscalationPolicy,
    EscalationStep,
    GateConfig,
    GatePhase,
    LuciaConfig,
    Owner,
)
from bot.gate.model import GO, NO_GO, Verdict
from bot.gate.trace import HOPS, TraceResult
from bot.grammar import parse
from bot.incidents.replies import ItemList
from bot.sentry.synthetic import synthetic_body
from bot.slack.views.ids import ALERT_OPEN_ACTION
from bot.store.tables import alert_deliveries, alert_groups, incidents, pages
from bot.text import plain
from bot.vocabulary import Invocation, Role, Severity
from tests.drivers.alerts import ALERTS, shown
from tests.drivers.bot import Bot, running_bot
from tests.drivers.ports import free_port
from tests.drivers.reach import Reach
from tests.drivers.sentry import SECRET, deliver
from tests.drivers.trace import alert_trace

ANA, BOB = "U01ALICE00", "U01BOBBY00"

# Every alert opens a SEV1 incident that pages Bob then Ana by every channel they have,
# and new alert messages gather for a minute: a trace must do neither.
CONFIG = LuciaConfig(
    owners={
        Role.OWNER: Owner(name="Ana Lucia", slack=ANA, email="ana@lucia.example", push_topic="a"),
        Role.INFRA: Owner(name="Bob Infra", slack=BOB, email="bob@lucia.example", push_topic="b"),
    },
    routing=[
        AlertRoute(match=AlertMatch(), action="incident", severity=Severity.SEV1, page=[Role.INFRA])
    ],
    escalation={
        Severity.SEV1: EscalationPolicy(
            steps=[EscalationStep(roles=[Role.INFRA, Role.OWNER], wait=timedelta(seconds=1))]
        )
    },
    alerts=AlertsConfig(group_wait=timedelta(minutes=1), update_interval=timedelta(seconds=0.5)),
)


@pytest.fixture
async def bot(reach: Reach, database_url: str) -> AsyncIterator[Bot]:
    reach.slack.add_channel("alerts", channel_id=ALERTS)
    env = reach.env | {"SENTRY_CLIENT_SECRET": SECRET, "LUCIA_ALERTS_CHANNEL": ALERTS}
    async with running_bot(reach.slack, database_url, CONFIG, **env) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def rows(bot: Bot, table: sa.Table) -> list[dict[str, Any]]:
    async with bot.runtime.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(sa.select(table))).mappings()]


def alert_messages(bot: Bot) -> list[dict[str, Any]]:
    return bot.slack.channels[ALERTS].messages


async def nobody_was_paged(bot: Bot, reach: Reach) -> None:
    await bot.settle()
    assert await rows(bot, incidents) == []
    assert await rows(bot, pages) == []
    assert reach.mailbox.messages() == []
    assert reach.ntfy.delivered == []
    assert reach.dms_to(ANA) == []
    assert reach.dms_to(BOB) == []


def described(result: TraceResult) -> dict[str, tuple[bool, str]]:
    return {h.name: (h.seen, h.detail) for h in result.hops}


async def test_a_trace_reports_every_hop_with_its_time_and_pages_nobody(
    bot: Bot, reach: Reach, http: aiohttp.ClientSession
) -> None:
    result = await alert_trace(bot, http, secret=SECRET).run(by=ANA)

    assert result.passed, described(result)
    assert [h.name for h in result.hops] == list(HOPS)
    for hop in result.hops:
        assert hop.at is not None, hop
        assert hop.after_ms is not None, hop
        assert 0 <= hop.after_ms < 20_000, hop
    stored, grouped, posted = result.hops[1:]
    assert stored.at is not None
    assert grouped.at is not None
    assert posted.at is not None
    assert stored.at <= grouped.at <= posted.at
    assert result.hop("accepted").detail.startswith("HTTP 200 in ")
    # Posted at once, not after the minute a new alert message gathers for.
    assert posted.after_ms is not None
    assert posted.after_ms < 10_000
    (message,) = alert_messages(bot)
    assert posted.detail == f"message {message['ts']} in {ALERTS}"
    assert "Synthetic alert trace" in json.dumps(message, ensure_ascii=False)
    assert ALERT_OPEN_ACTION not in json.dumps(message)  # no button that opens an incident

    # Resolved afterwards, and the message says so.
    (group,) = await rows(bot, alert_groups)
    assert group["status"] == "resolved"
    assert result.resolved == f"alert group A{group['id']} resolved"
    await shown(bot.slack.channels[ALERTS], "Resolved")
    assert len(alert_messages(bot)) == 1
    await nobody_was_paged(bot, reach)
    assert result.to_json()["passed"] is True


async def test_a_replay_of_a_finished_trace_shows_nothing_again(
    bot: Bot, http: aiohttp.ClientSession
) -> None:
    result = await alert_trace(bot, http, secret=SECRET).run(by=ANA)
    assert result.passed, described(result)
    await shown(bot.slack.channels[ALERTS], "Resolved")

    replay = synthetic_body(result.trace_id, time.time())
    assert (await deliver(bot, replay, "event_alert")).status == 200
    await bot.settle()
    groups = await rows(bot, alert_groups)
    assert [g["status"] for g in groups] == ["resolved"]
    deliveries = sorted(await rows(bot, alert_deliveries), key=lambda d: d["id"])
    assert [d["outcome"] for d in deliveries] == ["new", "ignored"]
    assert len(alert_messages(bot)) == 1


async def test_a_public_url_that_refuses_connections_is_not_accepted_and_claims_nothing(
    bot: Bot, reach: Reach, http: aiohttp.ClientSession
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = await alert_trace(bot, http, public_url=closed, secret=SECRET).run(by=ANA)

    assert not result.passed
    accepted = result.hop("accepted")
    assert (accepted.seen, accepted.detail) == (False, "connection refused")
    assert accepted.at is None
    for name in HOPS[1:]:
        hop = result.hop(name)
        assert (hop.seen, hop.at, hop.after_ms) == (False, None, None)
        assert hop.detail == "not looked for: the webhook was not accepted"
    assert await rows(bot, alert_deliveries) == []
    assert [g["status"] for g in await rows(bot, alert_groups)] in ([], ["resolved"])
    assert alert_messages(bot) == []
    await nobody_was_paged(bot, reach)


async def test_a_wrong_client_secret_is_answered_401_and_not_accepted(
    bot: Bot, http: aiohttp.ClientSession
) -> None:
    result = await alert_trace(bot, http, secret="not-the-client-secret").run(by=ANA)

    assert not result.passed
    accepted = result.hop("accepted")
    assert not accepted.seen
    assert accepted.detail == "answered HTTP 401: signature does not match the body"
    assert [h.seen for h in result.hops] == [False, False, False, False]
    assert await rows(bot, alert_deliveries) == []
    assert alert_messages(bot) == []


async def test_slack_unable_to_post_leaves_the_posted_hop_unseen(
    bot: Bot, reach: Reach, http: aiohttp.ClientSession
) -> None:
    bot.slack.fail_next("chat.postMessage", "channel_not_found", times=100)
    result = await alert_trace(bot, http, secret=SECRET).run(by=ANA, within=3.0)

    assert not result.passed
    seen = {h.name: h.seen for h in result.hops}
    assert seen == {"accepted": True, "stored": True, "grouped": True, "posted": False}
    posted = result.hop("posted")
    assert (posted.at, posted.after_ms) == (None, None)
    assert posted.detail == "not in the alerts channel after 3 s"
    assert alert_messages(bot) == []
    (group,) = await rows(bot, alert_groups)
    assert group["status"] == "resolved"
    await nobody_was_paged(bot, reach)


GATED = CONFIG.model_copy(
    update={"gate": GateConfig(phases={"staging": GatePhase(items=["alert_pipeline"])})}
)


async def test_a_trace_through_the_public_url_passes_the_gates_alert_pipeline(
    reach: Reach, database_url: str
) -> None:
    reach.slack.add_channel("alerts", channel_id=ALERTS)
    port = free_port()
    env = reach.env | {
        "SENTRY_CLIENT_SECRET": SECRET,
        "LUCIA_ALERTS_CHANNEL": ALERTS,
        "LUCIA_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
    }
    async with running_bot(reach.slack, database_url, GATED, **env) as bot:
        before = await bot.runtime.desk.gate.evaluate("staging", ANA)
        traced = await bot.runtime.desk.run(parse("gate trace"), Invocation(ANA))
        after = await bot.runtime.desk.gate.evaluate("staging", ANA)

    (item,) = before.evaluation.asked.items
    assert (item.verdict, item.reason) == (Verdict.UNKNOWN, "no trace has run: `/lucia gate trace`")
    assert isinstance(traced, ItemList)
    assert plain(traced.title).endswith(": pass")
    assert [plain(line).split(" ")[1] for line in traced.items] == list(HOPS)
    (item,) = after.evaluation.asked.items
    assert item.verdict is Verdict.PASS, item.reason
    assert item.reason.startswith("every hop seen: accepted +")
    assert item.expires_at == item.observed_at + timedelta(hours=24)
    assert after.evaluation.verdict == GO


async def test_a_public_url_nobody_answers_leaves_the_alert_pipeline_unknown(
    reach: Reach, database_url: str
) -> None:
    reach.slack.add_channel("alerts", channel_id=ALERTS)
    env = reach.env | {
        "SENTRY_CLIENT_SECRET": SECRET,
        "LUCIA_ALERTS_CHANNEL": ALERTS,
        "LUCIA_PUBLIC_URL": f"http://127.0.0.1:{free_port()}",  # not the bot: nothing there
    }
    async with running_bot(reach.slack, database_url, GATED, **env) as bot:
        traced = await bot.runtime.desk.run(parse("gate trace"), Invocation(ANA))
        report = await bot.runtime.desk.gate.evaluate("staging", ANA)

    assert isinstance(traced, ItemList)
    assert plain(traced.title).endswith(": unknown")
    (item,) = report.evaluation.asked.items
    assert item.verdict is Verdict.UNKNOWN
    assert item.reason.startswith("the public URL didn't accept the synthetic alert: accepted")
    assert "connection refused" in item.reason
    assert report.evaluation.verdict == NO_GO
