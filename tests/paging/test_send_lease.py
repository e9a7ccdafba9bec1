"""A page's lease, as the people paged count it: a sender killed mid-page (`kill -9` while
Bob's e-mail waits for its SMTP reply) leaves the page to the next process within the short
lease, which sends only the channels never attempted and says the e-mail is unknown; a
slow send keeps its lease, so a second process never takes the page over. Real `serve`
processes or the real bot, Postgres and SQLite, a real SMTP server, ntfy and the local Slack."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from bot.config import EscalationPolicy, EscalationStep, LuciaConfig, Owner, PagingConfig
from bot.store.database import create_engine, driver_url
from bot.store.tables import page_deliveries, pages, timeline_events
from bot.vocabulary import Role, Severity
from tests.drivers.alerts import fatal_alert
from tests.drivers.bot import running_bot
from tests.drivers.held_reach import Reach, reach
from tests.drivers.ports import free_port
from tests.drivers.sentry import SECRET, signed
from tests.drivers.serve import start_serve
from tests.drivers.slack import SIGNING_SECRET
from tests.drivers.waiting import until
from tests.fakes.slack_api import FakeSlackAPI

BOB = ("bob@lucia.example", "bob-93", "U01BOBBY00")  # (e-mail, push topic, Slack id)
SEND_LEASE = 1  # seconds: paging.send_lease
LUCIA_YAML = f"""
paging: {{throttle: 0, send_lease: {SEND_LEASE}}}
owners:
  owner: {{name: Ana Lucia, slack: U01ALICE00}}
  infra: {{name: Bob Infra, slack: U01BOBBY00, email: bob@lucia.example, push_topic: bob-93}}
routing:
  - match: {{level: [fatal], environment: [production]}}
    action: incident
    severity: sev1
escalation:
  sev1:
    close_with_fallback: false
    steps:
      - {{roles: [infra], wait: 10m}}
"""
UNKNOWN = "unknown: the bot stopped while sending by e-mail"


@pytest.fixture
async def where(slack_api: FakeSlackAPI) -> AsyncIterator[Reach]:
    async with reach(slack_api) as found:
        yield found


async def query(database_url: str, select: sa.Select[Any]) -> list[dict[str, Any]]:
    engine = create_engine(driver_url(database_url))
    try:
        async with engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(select)).mappings()]
    finally:
        await engine.dispose()


async def page_lines(database_url: str) -> list[str]:
    select = sa.select(timeline_events.c.text).where(timeline_events.c.kind == "page")
    return [r["text"] for r in await query(database_url, select.order_by(timeline_events.c.id))]


async def test_a_page_killed_mid_send_is_finished_within_the_lease_and_nothing_goes_twice(
    where: Reach, database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "lucia.yaml").write_text(LUCIA_YAML)
    env = {
        "PATH": os.environ["PATH"],
        "PORT": str(free_port()),
        "DATABASE_URL": database_url,
        "SENTRY_CLIENT_SECRET": SECRET,
        "SLACK_BOT_TOKEN": where.slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": where.slack.url,
        "LOG_LEVEL": "WARNING",
        **where.env,
    }
    where.mailbox.hold.set()  # Bob's e-mail reaches the server; its 250 doesn't come back
    proc = await start_serve(env, tmp_path)
    try:
        body = fatal_alert()
        headers = signed(body) | {"Sentry-Hook-Resource": "event_alert"}
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{env['PORT']}/webhooks/sentry", data=body, headers=headers
            ) as response,
        ):
            assert response.status == 200

        async def mail_at_the_server() -> bool:
            return where.mails_to(BOB[0]) == 1

        await until(mail_at_the_server)
    finally:
        proc.send_signal(signal.SIGKILL)  # mid-send: Slack done, e-mail unanswered, no push
        await proc.wait()
    where.mailbox.hold.clear()
    assert where.count(BOB) == (1, 0, 1)
    (left,) = await query(database_url, sa.select(pages.c.status))
    assert left["status"] == "sending"

    proc = await start_serve(env, tmp_path)
    started = asyncio.get_running_loop().time()
    try:

        async def pushed() -> bool:
            return where.pushes_to(BOB[1]) == 1

        await until(pushed, limit=SEND_LEASE + 5)
        took = asyncio.get_running_loop().time() - started
        await asyncio.sleep(2 * SEND_LEASE)  # leases come and go: nothing goes out again
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()

    assert took < SEND_LEASE + 2, f"the page waited {took:.1f} s after the restart"
    assert where.count(BOB) == (1, 1, 1)  # one e-mail, one push, one DM
    (page,) = await query(database_url, sa.select(pages.c.status))
    assert page["status"] == "sent"
    deliveries = await query(
        database_url,
        sa.select(page_deliveries.c.channel, page_deliveries.c.ok, page_deliveries.c.detail),
    )
    assert {d["channel"]: (d["ok"], d["detail"]) for d in deliveries} == {
        "slack_dm": (True, "sent"),
        "slack_mention": (True, "sent"),
        "email": (False, UNKNOWN),
        "push": (True, "sent"),
    }
    assert await page_lines(database_url) == [
        "Paged Bob Infra (infra): Slack DM ✓, mention in the channel ✓, "
        f"e-mail ? ({UNKNOWN}), push ✓"
    ]


def lease_config() -> LuciaConfig:
    bob = Owner(name="Bob Infra", slack=BOB[2], email=BOB[0], push_topic=BOB[1])
    steps = [EscalationStep(roles=[Role.INFRA], wait=timedelta(minutes=10))]
    return LuciaConfig(
        owners={Role.INFRA: bob},
        escalation={Severity.SEV1: EscalationPolicy(steps=steps, close_with_fallback=False)},
        paging=PagingConfig(throttle=timedelta(0), send_lease=timedelta(seconds=SEND_LEASE)),
    )


async def test_a_slow_send_keeps_its_lease_so_a_second_bot_never_takes_the_page_over(
    where: Reach, postgres_url: str
) -> None:
    cfg = lease_config()
    where.mailbox.hold.set()  # the SMTP reply takes three leases
    async with (
        running_bot(where.slack, postgres_url, cfg, **where.env) as first,
        running_bot(where.slack, postgres_url, cfg, **where.env) as second,
    ):
        await first.command("incident open sev1 Checkout crashes")  # not settled: it pages

        async def mail_at_the_server() -> bool:
            return where.mails_to(BOB[0]) == 1

        await until(mail_at_the_server)
        for _ in range(6):  # three leases, the second bot looking for due pages meanwhile
            await second.command("owners", response_key="owners")  # every command looks
            await asyncio.sleep(SEND_LEASE / 2)
        where.mailbox.hold.clear()

        async def finished() -> bool:
            return [p["status"] for p in await query(postgres_url, sa.select(pages))] == ["sent"]

        await until(finished)
        await asyncio.sleep(2 * SEND_LEASE)
        await first.settle()
        await second.settle()

    assert where.count(BOB) == (1, 1, 1)
    assert await page_lines(postgres_url) == [
        "Paged Bob Infra (infra): Slack DM ✓, mention in the channel ✓, e-mail ✓, push ✓"
    ]
