"""One deployment built to be broken: real PostgreSQL (the test database, emptied) and a
redis-server of its own, each behind a fault proxy, the local Slack (able to be down), and
`lucia-bot serve` processes started on demand. The `stack` fixture (tests/faults/conftest.py)
builds one per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.drivers.services import POSTGRES_URL
from tests.drivers.slack import INCIDENTS_CHANNEL, SIGNING_SECRET
from tests.fakes.tcp_proxy import TcpProxy
from tests.faults.bot_process import BotProcess
from tests.faults.configs import FAST_ALERTS
from tests.faults.redis_server import RedisServer
from tests.faults.sentry_load import SECRET
from tests.faults.slack_outage import OutageSlack
from tests.faults.tally import redis_prefix

ALERTS_CHANNEL = "C01ALERTS0"
GENERAL_CHANNEL = "C01GENERAL"
ANA, BOB = "U01ALICE00", "U01BOBBY00"


def via_proxy(database_url: str, proxy: TcpProxy) -> str:
    return make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)


async def second_database() -> str:
    """An empty database beside the test database (`<name>_b`), made if missing."""
    url = make_url(POSTGRES_URL)
    other = url.set(database=f"{url.database}_b").render_as_string(hide_password=False)
    admin_url = url.set(database="postgres").render_as_string(hide_password=False)
    try:
        admin = await asyncpg.connect(admin_url, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {admin_url} is required for this test: {exc!r}")
    try:
        name = f"{url.database}_b"
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(other, timeout=5)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    return other


@dataclass
class Stack:
    """A database and a Redis, each reached through its own fault proxy, and the bots."""

    database_url: str  # straight to Postgres: what the test reads with
    redis: RedisServer
    pg_proxy: TcpProxy
    redis_proxy: TcpProxy
    slack: OutageSlack
    tmp: Path
    bots: list[BotProcess] = field(default_factory=list)

    @property
    def bot_database_url(self) -> str:
        return via_proxy(self.database_url, self.pg_proxy)

    @property
    def bot_redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_proxy.port}/0"

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "DATABASE_URL": self.bot_database_url,
            "REDIS_URL": self.bot_redis_url,
            "SENTRY_CLIENT_SECRET": SECRET,
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.url,
            "LUCIA_ALERTS_CHANNEL": ALERTS_CHANNEL,
            "LUCIA_INCIDENTS_CHANNEL": INCIDENTS_CHANNEL,
            **extra,
        }

    async def bot(self, config: str = FAST_ALERTS, *, name: str = "", **extra: str) -> BotProcess:
        """A started `serve` on this stack (its lucia.yaml is `config`)."""
        workdir = self.tmp / (name or f"bot{len(self.bots) + 1}")
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "lucia.yaml").write_text(config)
        bot = BotProcess(self.env(**extra), workdir, name=name or "serve")
        self.bots.append(bot)
        await bot.start()
        return bot

    async def prefix(self) -> str:
        return await redis_prefix(self.database_url)


@asynccontextmanager
async def build_stack(
    tmp: Path, database_url: str, redis: RedisServer | None = None
) -> AsyncIterator[Stack]:
    """A stack on `database_url` (emptied by the caller) and `redis` (started here if not
    given: two stacks may share one)."""
    own_redis = redis is None
    if redis is None:
        redis = RedisServer(tmp / "redis")
        await redis.start()
    url = make_url(database_url)
    pg_proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    redis_proxy = TcpProxy("127.0.0.1", redis.port)
    await pg_proxy.start()
    await redis_proxy.start()
    slack = OutageSlack()
    await slack.start()
    slack.add_channel("incidents", channel_id=INCIDENTS_CHANNEL)
    slack.add_channel("alerts", channel_id=ALERTS_CHANNEL)
    slack.add_channel("general", channel_id=GENERAL_CHANNEL, members=[ANA, BOB])
    stack = Stack(database_url, redis, pg_proxy, redis_proxy, slack, tmp)
    try:
        yield stack
    finally:
        for bot in stack.bots:
            await bot.close()
        await pg_proxy.cut()
        await redis_proxy.cut()
        await slack.close()
        if own_redis:
            await redis.close()
