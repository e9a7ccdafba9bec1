"""Shared fixtures: an isolated environment, real PostgreSQL and Redis, a local Slack
Web API stand-in, and the real bot app driven with signed Slack requests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url

from bot.app import Runtime
from bot.config import LuciaConfig
from bot.server import RUNTIME, build_server_app
from bot.settings import Settings, load_settings
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.tcp_proxy import TcpProxy

# shared/ sits beside the checkout, here and in CI.
FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"

_BASE_POSTGRES_URL = make_url(
    os.environ.get("LUCIA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/lucia_test")
)
_BASE_REDIS_URL = make_url(os.environ.get("LUCIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
# Under `pytest -n N` each worker (gw0, gw1, …) gets a database and a Redis db of its own.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
POSTGRES_URL = (
    _BASE_POSTGRES_URL.set(database=f"{_BASE_POSTGRES_URL.database}_gw{_WORKER}")
    if "PYTEST_XDIST_WORKER" in os.environ
    else _BASE_POSTGRES_URL
).render_as_string(hide_password=False)
REDIS_URL = _BASE_REDIS_URL.set(
    database=str(int(_BASE_REDIS_URL.database or "15") - _WORKER)
).render_as_string(hide_password=False)
SIGNING_SECRET = "test-signing-secret"
INCIDENTS_CHANNEL = "C01INCIDNT"

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


def slack_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "slack" / name).read_text())


def sentry_fixture(name: str) -> bytes:
    """The raw bytes, as Sentry would sign and send them."""
    return (FIXTURES / "sentry" / name).read_bytes()


# --- real services -------------------------------------------------------------------


async def empty_postgres() -> str:
    """An empty `public` schema in the test database; fails loudly if Postgres is down."""
    try:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except asyncpg.InvalidCatalogNameError:
        await _create_worker_database()
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required for this test: {exc!r}")
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    return POSTGRES_URL


async def _create_worker_database() -> None:
    """A worker's own database, made beside the test database on first use."""
    admin = await asyncpg.connect(_BASE_POSTGRES_URL.render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{make_url(POSTGRES_URL).database}"')
    except asyncpg.DuplicateDatabaseError:
        pass  # made meanwhile by a test of the same worker that got there first
    finally:
        await admin.close()


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


def proxy_url(proxy: TcpProxy) -> str:
    return make_url(POSTGRES_URL).set(port=proxy.port).render_as_string(hide_password=False)


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


def sign(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class Bot:
    """The real bot app on a local port, and ways to talk to it like Slack does."""

    def __init__(self, client: TestClient[Any, Any], slack: FakeSlackAPI) -> None:
        self.client = client
        self.slack = slack
        self._triggers = 0

    @property
    def runtime(self) -> Runtime:
        return self.client.app[RUNTIME]  # type: ignore[index]

    async def post(self, body: str, content_type: str, **headers: str) -> ClientResponse:
        return await self.client.post(
            "/slack/events",
            data=body.encode(),
            headers={"Content-Type": content_type, **sign(body), **headers},
        )

    def next_trigger(self) -> str:
        self._triggers += 1
        return f"trigger-{self._triggers}"

    async def command(
        self,
        text: str,
        *,
        user: str = "U01ALICE00",
        channel: str = "C01GENERAL",
        response_key: str = "cmd",
    ) -> ClientResponse:
        form = slack_fixture("slash_command.json") | {
            "text": text,
            "user_id": user,
            "channel_id": channel,
            "response_url": self.slack.response_url(response_key),
            "trigger_id": self.next_trigger(),
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any]) -> ClientResponse:
        return await self.post(
            "payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded"
        )

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "U01BOBBY00",
        channel: str = "C01INCID42",
        response_key: str = "click",
    ) -> ClientResponse:
        payload = slack_fixture("block_actions.json")
        payload["user"] = payload["user"] | {"id": user}
        payload["channel"] = {"id": channel, "name": "incident"}
        payload["container"]["channel_id"] = channel
        payload["actions"][0] |= {"action_id": action_id, "value": value}
        payload["response_url"] = self.slack.response_url(response_key)
        payload["trigger_id"] = self.next_trigger()
        return await self.interact(payload)

    async def event(self, body: dict[str, Any], **headers: str) -> ClientResponse:
        return await self.post(json.dumps(body), "application/json", **headers)

    async def settle(self) -> None:
        """Wait until the work the bot does after acknowledging is finished."""
        await self.runtime.background.wait_idle()

    async def answers(self, key: str = "cmd") -> list[str]:
        """Texts the bot sent back through a response_url."""
        return [p.body.get("text", "") for p in self.slack.response_posts if p.key == key]


async def until(check: Callable[[], Awaitable[object]], limit: float = 10.0) -> None:
    """Poll `check` (the database, a fake's inbox) until it holds; fail after `limit` s."""
    async with asyncio.timeout(limit):
        while not await check():  # noqa: ASYNC110 - polling another process's work
            await asyncio.sleep(0.05)


def bot_settings(slack: FakeSlackAPI, database_url: str, **extra: str) -> Settings:
    return load_settings(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.url,
            "DATABASE_URL": database_url,
            "LUCIA_INCIDENTS_CHANNEL": INCIDENTS_CHANNEL,
            **extra,
        }
    )


@asynccontextmanager
async def running_bot(
    slack: FakeSlackAPI, database_url: str, config: LuciaConfig | None = None, **env: str
) -> AsyncIterator[Bot]:
    """The whole server app, as `lucia-bot serve` builds it, on a local port."""
    settings = bot_settings(slack, database_url, **env)
    app = await build_server_app(settings, config or LuciaConfig())
    async with TestClient(TestServer(app)) as client:
        yield Bot(client, slack)


@pytest.fixture
async def bot(slack_api: FakeSlackAPI, database_url: str) -> AsyncIterator[Bot]:
    async with running_bot(slack_api, database_url) as running:
        yield running


# --- a bot process ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_serve(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`lucia-bot serve` as its own process (to be killed), once /healthz answers."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"http://127.0.0.1:{env['PORT']}/healthz") as response:
                    if response.status == 200:
                        return proc
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError("serve never became healthy")
