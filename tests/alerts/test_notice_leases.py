"""What Slack answered for an alert message can fail to reach the database — a blip, a
deadlock — right after the message was posted. Counted as the alerts channel's reader
counts: one Slack message per notice, showing what is stored. The notice sender on the
real store (Postgres through a cuttable proxy, or SQLite locked by another writer), the
real Slack client and the local Slack Web API."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import log_messages as msg
from bot.alerts.model import AlertSignal, NoticeTiming, Outcome
from bot.alerts.notices import LEASE, NoticeBoard
from bot.app import utc_now
from bot.errors import StoreUnavailable
from bot.slack.app import build_web_client
from bot.slack.chat import SlackChat
from bot.store.alert_store import SqlAlertStore
from bot.store.database import create_engine, driver_url
from bot.store.migrate import upgrade
from bot.store.tables import alert_notices
from tests.drivers.bot import bot_settings
from tests.drivers.waiting import until
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.tcp_proxy import TcpProxy

ALERTS = "C01ALERTS0"
KEY = "sentry:issue:4242"


@dataclass
class Database:
    """The bot's way to the database, and a way to take it away for a while: Postgres
    refuses connections (the proxy's port closed, live ones reset); SQLite is held by
    another writer, so every write waits out its busy timeout and fails."""

    url: str  # what the bot connects to
    direct: str  # what the test reads with
    proxy: TcpProxy | None = None
    _holder: sqlite3.Connection | None = field(default=None, repr=False)

    async def away(self) -> None:
        if self.proxy is not None:
            await self.proxy.refuse()
            return
        path = make_url(self.direct).database
        assert path is not None
        self._holder = sqlite3.connect(path, timeout=0, isolation_level=None)
        self._holder.execute("BEGIN EXCLUSIVE")

    async def back(self) -> None:
        if self.proxy is not None:
            await self.proxy.resume()
        elif self._holder is not None:
            self._holder.execute("ROLLBACK")
            self._holder.close()
            self._holder = None


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield Database(database_url, database_url)
        return
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    through = url.set(port=proxy.port).render_as_string(hide_password=False)
    try:
        yield Database(through, database_url, proxy)
    finally:
        await proxy.cut()


@dataclass
class Sender:
    board: NoticeBoard
    store: SqlAlertStore
    engine: AsyncEngine
    slack: FakeSlackAPI

    def messages(self) -> list[dict[str, Any]]:
        return [m for m in self.slack.channels[ALERTS].messages if m.get("bot_id")]

    async def notice(self) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            (row,) = (await conn.execute(sa.select(alert_notices))).mappings().all()
        return dict(row)


@asynccontextmanager
async def sender(
    slack: FakeSlackAPI, database: Database, lease: timedelta = LEASE
) -> AsyncIterator[Sender]:
    slack.add_channel("alerts", channel_id=ALERTS)
    engine = create_engine(driver_url(database.url))
    await upgrade(engine)
    store = SqlAlertStore(engine, utc_now)
    chat = SlackChat(build_web_client(bot_settings(slack, database.url)))
    timing = NoticeTiming(group_wait=timedelta(0), update_interval=timedelta(0))
    board = NoticeBoard(store, chat, ALERTS, timing, utc_now, lease=lease)
    try:
        yield Sender(board, store, engine, slack)
    finally:
        await engine.dispose()


async def fire(s: Sender, times: int = 1) -> None:
    """`times` more events of one Sentry issue, stored as the reader stores them."""
    signal = AlertSignal(
        key=KEY,
        firing=True,
        title="TypeError: checkout is undefined",
        level="error",
        project="front-end",
        environment="production",
        rule="",
        url="",
        source="sentry",
        resource="event_alert",
        action="triggered",
        occurred_at=utc_now(),
    )
    async with s.store.transaction() as tx:
        group = await tx.open_group(KEY)
        if group is None:
            group = await tx.insert_group(signal)
            await s.board.on_change(tx, group, Outcome.NEW)
            times -= 1
        for _ in range(times):
            group = await tx.count_repeat(group, signal)
            await s.board.on_change(tx, group, Outcome.REPEAT)


async def test_a_blip_after_the_post_is_ridden_out_and_the_result_recorded(
    slack_api: FakeSlackAPI, database: Database
) -> None:
    async with sender(slack_api, database) as s:
        await fire(s)
        slack_api.delay("chat.postMessage", 0.5)
        sending = asyncio.create_task(s.board.send_due())
        await slack_api.wait_for("chat.postMessage")
        await database.away()  # Slack's answer comes back to no database
        await asyncio.sleep(1.0)
        await database.back()
        assert await sending == 1  # recorded on a later try, well within the lease
        await fire(s, 2)
        assert await s.board.send_due() == 1
        notice = await s.notice()

    (message,) = s.messages()
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert notice["message_ts"] == message["ts"]
    assert notice["sent_version"] == notice["version"]
    assert "(3 events)" in message["text"], message["text"]


async def test_a_message_posted_but_never_recorded_is_updated_not_posted_again(
    slack_api: FakeSlackAPI, database: Database
) -> None:
    lease = timedelta(seconds=1)
    async with sender(slack_api, database, lease) as s:
        await fire(s)
        slack_api.delay("chat.postMessage", 0.3)
        sending = asyncio.create_task(s.board.send_due())
        await slack_api.wait_for("chat.postMessage")
        await database.away()  # longer than the lease: the sender gives up recording
        with pytest.raises(StoreUnavailable):
            await sending
        await database.back()
        assert (await s.notice())["message_ts"] is None  # the database doesn't know it
        await fire(s, 4)  # the alert goes on firing
        await asyncio.sleep(lease.total_seconds())  # the lease runs out: the notice is due
        assert await s.board.send_due() == 1
        await asyncio.sleep(lease.total_seconds())
        assert await s.board.send_due() == 0  # nothing left to send
        notice = await s.notice()

    (message,) = s.messages()
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert [c.args["ts"] for c in slack_api.calls_to("chat.update")] == [message["ts"]]
    assert notice["message_ts"] == message["ts"]
    assert notice["sent_version"] == notice["version"]
    assert "(5 events)" in message["text"], message["text"]


async def _waiting_update(conn: asyncpg.Connection) -> bool:
    """Is the sender's UPDATE of the notice waiting for a lock?"""
    found = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE 'UPDATE alert_notices SET %' AND query LIKE '%message_ts=%'"
    )
    return bool(found)


async def test_a_deadlock_while_recording_the_message_is_tried_again(
    slack_api: FakeSlackAPI, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two readers (of two processes) queued on the notice's row with the sender, each
    holding what the other wants: Postgres aborts the sender, whose UPDATE waited first."""
    caplog.set_level(logging.WARNING, logger="bot.alerts.notices")
    async with sender(slack_api, Database(postgres_url, postgres_url)) as s:
        await fire(s)
        url = make_url(postgres_url).render_as_string(hide_password=False)
        first, second, look = [await asyncpg.connect(url) for _ in range(3)]
        try:
            group_id = await look.fetchval("SELECT id FROM alert_groups")
            notice_id = await look.fetchval("SELECT id FROM alert_notices")
            slack_api.delay("chat.postMessage", 0.3)
            sending = asyncio.create_task(s.board.send_due())
            await slack_api.wait_for("chat.postMessage")  # the claim is committed
            one, two = first.transaction(), second.transaction()
            await one.start()
            await first.execute("SELECT 1 FROM alert_notices WHERE id = $1 FOR UPDATE", notice_id)
            await until(lambda: _waiting_update(look), limit=5)
            await two.start()
            await second.execute("SELECT 1 FROM alert_groups WHERE id = $1 FOR UPDATE", group_id)
            queued = asyncio.create_task(
                second.execute("SELECT 1 FROM alert_notices WHERE id = $1 FOR UPDATE", notice_id)
            )
            await asyncio.sleep(0.1)  # behind the sender, on the row's tuple lock
            crossed = asyncio.create_task(
                first.execute("SELECT 1 FROM alert_groups WHERE id = $1 FOR UPDATE", group_id)
            )
            # The sender is aborted first; then the two readers deadlock each other and
            # one of them is aborted too. Both end; the sender tries again and records.
            await asyncio.wait([queued, crossed], timeout=10)
            for done, transaction in ((queued, two), (crossed, one)):
                if done.exception() is None:
                    await transaction.commit()
                else:
                    await transaction.rollback()
            assert await asyncio.wait_for(sending, 10) == 1
        finally:
            for conn in (first, second, look):
                await conn.close()
        notice = await s.notice()

    retried = [r for r in caplog.records if r.getMessage() == msg.ALERT_NOTICE_NOT_RECORDED]
    assert any("40P01" in str(getattr(r, "error", "")) for r in retried), caplog.records
    (message,) = s.messages()
    assert len(slack_api.calls_to("chat.postMessage")) == 1
    assert notice["message_ts"] == message["ts"]
    assert notice["sent_version"] == notice["version"]
