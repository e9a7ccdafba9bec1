"""Shared fixtures: an isolated environment, real PostgreSQL and Redis, a local Slack
Web API stand-in, the real bot app, and everything a page can reach. What the fixtures
are built from lives in tests/drivers (and tests/fakes), which tests import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy.engine import make_url

from bot.settings import Settings
from tests.drivers.bot import Bot, running_bot
from tests.drivers.reach import Reach, reached
from tests.drivers.services import POSTGRES_URL, REDIS_URL, empty_postgres
from tests.drivers.slack import INCIDENTS_CHANNEL
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.tcp_proxy import TcpProxy

_ENV_NAMES = {name.upper() for name in Settings.model_fields} | {
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SENTRY_RELEASE",
    "RENDER_GIT_COMMIT",
}


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's or CI's Lucia settings."""
    for name in _ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


# --- real services -------------------------------------------------------------------


@pytest.fixture
async def postgres_url() -> str:
    return await empty_postgres()


@pytest.fixture
async def postgres_proxy() -> AsyncIterator[TcpProxy]:
    """A cuttable TCP path to an empty test database: `proxy_url(proxy)` connects through it."""
    await empty_postgres()
    url = make_url(POSTGRES_URL)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.cut()


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """An empty Redis database; fails loudly if Redis is down."""
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    except (OSError, aioredis.RedisError) as exc:
        pytest.fail(f"Redis at {REDIS_URL} is required for this test: {exc!r}")
    finally:
        await client.aclose()
    return REDIS_URL


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test on the embedded default and on real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'lucia.db'}"
    return await empty_postgres()


# --- Slack ----------------------------------------------------------------------------


@pytest.fixture
async def slack_api() -> AsyncIterator[FakeSlackAPI]:
    async with FakeSlackAPI() as fake:
        fake.add_channel("incidents", channel_id=INCIDENTS_CHANNEL)
        fake.add_channel("general", channel_id="C01GENERAL", members=["U01ALICE00", "U01BOBBY00"])
        yield fake


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str) -> AsyncIterator[Bot]:
    async with running_bot(slack_api, database_url) as running:
        yield running


# --- paging ---------------------------------------------------------------------------


@pytest.fixture
async def reach(slack_api: FakeSlackAPI) -> AsyncIterator[Reach]:
    """A mailbox and a push server beside the local Slack (tests/paging, tests/postmortem)."""
    async with reached(slack_api) as found:
        yield found
