"""The real bot app on a local port, as `lucia-bot serve` builds it, and ways to talk to it
like Slack does."""

from __future__ import annotations

__all__ = ["Bot", "bot_settings", "running_bot"]

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Runtime
from bot.config import LuciaConfig
from bot.server import RUNTIME, build_server_app
from bot.settings import Settings, load_settings
from tests.drivers.payloads import slack_fixture
from tests.drivers.slack import INCIDENTS_CHANNEL, SIGNING_SECRET, sign
from tests.fakes.slack_api import FakeSlackAPI


class Bot:
    """The real bot app on a local port, and ways to talk to it like Slack does."""

    def __init__(self, client: TestClient[Any, Any], slack: FakeSlackAPI) -> None:
        self.client = client
        self.slack = slack
        self._triggers = 0

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.client.app[RUNTIME]
        return runtime

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
    """The whole server app, as `lucia-bot serve` builds it, on a local port: the one `PORT`
    names when given (so a LUCIA_PUBLIC_URL can be the bot itself), else any free one."""
    settings = bot_settings(slack, database_url, **env)
    app = await build_server_app(settings, config or LuciaConfig())
    port = settings.port if "PORT" in env else None
    async with TestClient(TestServer(app, port=port)) as client:
        yield Bot(client, slack)
