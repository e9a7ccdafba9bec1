"""Health and readiness as Render and an operator see them."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.config import LuciaConfig
from bot.server import build_server_app
from bot.settings import load_settings
from tests.drivers.bot import Bot, bot_settings
from tests.drivers.services import empty_postgres, proxy_url
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.tcp_proxy import TcpProxy


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _client(settings_env: dict[str, str]) -> TestClient:  # type: ignore[type-arg]
    app = await build_server_app(load_settings(settings_env), LuciaConfig())
    return TestClient(TestServer(app))


async def test_healthz_and_readyz_on_the_embedded_defaults(tmp_path: Path) -> None:
    async with await _client({"DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}"}) as client:
        health = await client.get("/healthz")
        assert health.status == 200
        ready = await client.get("/readyz")
        assert ready.status == 200
        assert await ready.json() == {"status": "ready", "database": "ok", "redis": "in-process"}


async def test_readyz_checks_postgres_and_redis(redis_url: str) -> None:
    url = await empty_postgres()
    async with await _client({"DATABASE_URL": url, "REDIS_URL": redis_url}) as client:
        ready = await client.get("/readyz")
        assert ready.status == 200
        assert await ready.json() == {"status": "ready", "database": "ok", "redis": "ok"}


async def test_readyz_is_503_and_says_redis_is_down(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}",
        "REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0",
    }
    async with await _client(env) as client:
        ready = await client.get("/readyz")
        assert ready.status == 503
        body = await ready.json()
        assert body["database"] == "ok"
        assert body["redis"].startswith("down")
        assert (await client.get("/healthz")).status == 200  # alive, just not ready


async def test_readyz_is_503_when_the_database_goes_away(postgres_proxy: TcpProxy) -> None:
    env = {"DATABASE_URL": proxy_url(postgres_proxy)}
    async with await _client(env) as client:
        assert (await client.get("/readyz")).status == 200
        await postgres_proxy.cut()
        ready = await client.get("/readyz")
        assert ready.status == 503
        assert (await ready.json())["database"].startswith("down")


async def test_slack_route_says_when_slack_is_not_configured(tmp_path: Path) -> None:
    async with await _client({"DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}"}) as client:
        response = await client.post("/slack/events", data=b"x")
        assert response.status == 503
        assert "SLACK_BOT_TOKEN" in (await response.json())["error"]


async def test_unknown_route_is_404(slack_api: FakeSlackAPI, tmp_path: Path) -> None:
    app = await build_server_app(
        bot_settings(slack_api, f"sqlite:///{tmp_path / 'l.db'}"), LuciaConfig()
    )
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/nope")).status == 404


async def test_commands_are_acknowledged_and_answered_while_the_database_is_down(
    postgres_proxy: TcpProxy, slack_api: FakeSlackAPI
) -> None:
    settings = bot_settings(slack_api, proxy_url(postgres_proxy))
    app = await build_server_app(settings, LuciaConfig())
    async with TestClient(TestServer(app)) as client:
        bot = Bot(client, slack_api)
        await postgres_proxy.cut()
        response = await bot.command("incident open sev1 Everything is down")
        assert response.status == 200
        await bot.settle()
        (answer,) = await bot.answers()
        assert "can't reach the database" in answer
        assert "didn't go through" in answer


async def test_an_open_the_outage_refused_goes_through_when_retried(
    postgres_proxy: TcpProxy, slack_api: FakeSlackAPI
) -> None:
    """The duplicate-open guard reads the database: a refused open leaves nothing behind
    that would call the retry a duplicate of an incident that doesn't exist."""
    settings = bot_settings(slack_api, proxy_url(postgres_proxy))
    app = await build_server_app(settings, LuciaConfig())
    async with TestClient(TestServer(app)) as client:
        bot = Bot(client, slack_api)
        await postgres_proxy.cut()
        await bot.command("incident open sev2 Payments down", response_key="down")
        await bot.settle()
        assert "can't reach the database" in (await bot.answers("down"))[-1]
        await postgres_proxy.start()
        await bot.command("incident open sev2 Payments down", response_key="back")
        await bot.settle()
        (answer,) = await bot.answers("back")
        assert answer.startswith("✅ Opened INC-1 (SEV2)")


async def test_a_token_slack_refuses_stops_serve_with_the_variable_named(tmp_path: Path) -> None:
    async with FakeSlackAPI() as slack_api:
        env = clean_serve_env(slack_api, tmp_path, SLACK_BOT_TOKEN="xoxb-not-the-right-one")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert err.decode().splitlines() == [
        "lucia-bot: 1 configuration problem(s):",
        "  env SLACK_BOT_TOKEN: Slack refuses this token (invalid_auth): copy the Bot User "
        "OAuth Token (xoxb-…) from the app's OAuth & Permissions page, and reinstall the app "
        "if it was uninstalled",
    ]


async def test_readyz_says_whether_slack_accepts_the_token(
    slack_api: FakeSlackAPI, tmp_path: Path
) -> None:
    app = await build_server_app(
        bot_settings(slack_api, f"sqlite:///{tmp_path / 'l.db'}"), LuciaConfig()
    )
    async with TestClient(TestServer(app)) as client:
        ready = await client.get("/readyz")
        assert (ready.status, (await ready.json())["slack"]) == (200, "ok")


async def test_with_slack_unreachable_serve_starts_says_so_and_answers_commands_plainly(
    tmp_path: Path,
) -> None:
    """Slack's API down (or this host's way out to it): no empty 500 for a command."""
    async with FakeSlackAPI() as slack_api:
        settings = bot_settings(
            slack_api,
            f"sqlite:///{tmp_path / 'l.db'}",
            SLACK_API_URL=f"http://127.0.0.1:{_closed_port()}/api/",
        )
        app = await build_server_app(settings, LuciaConfig())
        async with TestClient(TestServer(app)) as client:
            ready = await client.get("/readyz")
            assert ready.status == 503
            assert (await ready.json())["slack"].startswith("down: Slack's API is unreachable")
            response = await Bot(client, slack_api).command("help")
            assert response.status == 200
            answer = await response.json()
            assert answer["response_type"] == "ephemeral"
            assert answer["text"].startswith("⚠️ I can't reach Slack's API right now")


def clean_serve_env(slack_api: FakeSlackAPI, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "PORT": str(_closed_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'lucia.db'}",
        "SLACK_BOT_TOKEN": slack_api.bot_token,
        "SLACK_SIGNING_SECRET": "secret-for-tests",
        "SLACK_API_URL": slack_api.url,
        **extra,
    }
