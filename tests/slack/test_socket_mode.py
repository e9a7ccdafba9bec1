"""With SLACK_APP_TOKEN the bot takes Slack's traffic over a Socket Mode WebSocket."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.config import LuciaConfig
from bot.server import RUNTIME, build_server_app
from bot.settings import load_settings
from tests.drivers.payloads import slack_fixture
from tests.fakes.slack_api import FakeSlackAPI


async def test_slash_command_over_socket_mode(slack_api: FakeSlackAPI, tmp_path: Path) -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": slack_api.bot_token,
            "SLACK_APP_TOKEN": slack_api.app_token,
            "SLACK_API_URL": slack_api.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'lucia.db'}",
        }
    )
    app = await build_server_app(settings, LuciaConfig())
    async with TestClient(TestServer(app)) as client:
        command = slack_fixture("slash_command.json") | {
            "text": "incident open sev2 Socket outage",
            "response_url": slack_api.response_url("cmd"),
        }
        envelope = await slack_api.send_envelope("slash_commands", command)
        ack = await slack_api.wait_for_socket_ack(envelope)
        assert "Socket outage" in ack["payload"]["text"]
        await client.app[RUNTIME].background.wait_idle()
        assert slack_api.channel_by_name("inc-1-socket-outage") is not None

        # No signing secret in Socket Mode: the HTTP route says so instead of accepting.
        response = await client.post("/slack/events", data=b"{}")
        assert response.status == 503
