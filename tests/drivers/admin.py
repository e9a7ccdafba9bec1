"""The real server app with the admin view on: Clerk configured with a key made for the
test, the origin fixed before it starts (tokens carry it as `azp`), and a browser's way
of calling `/admin/api/*`."""

from __future__ import annotations

__all__ = ["PUBLISHABLE_KEY", "AdminBot", "free_port", "running_admin"]

import base64
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Runtime
from bot.config import LuciaConfig
from bot.grammar import parse
from bot.server import RUNTIME, build_server_app
from bot.settings import load_settings
from bot.vocabulary import Invocation
from tests.fakes.clerk_tokens import ClerkKeys, session_claims

PUBLISHABLE_KEY = "pk_test_" + base64.b64encode(b"clerk.lucia.test$").decode().rstrip("=")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class AdminBot:
    def __init__(self, client: TestClient[Any, Any], keys: ClerkKeys, origin: str) -> None:
        self.client = client
        self.keys = keys
        self.origin = origin

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.client.app[RUNTIME]
        return runtime

    def token(self, **changes: Any) -> str:
        return self.keys.mint(session_claims(self.origin, **changes))

    async def get(self, path: str, token: str | None = None, **headers: str) -> ClientResponse:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self.client.get(path, headers=headers)

    async def say(self, text: str, user: str = "U01ALICE00") -> None:
        await self.runtime.desk.run(parse(text), Invocation(user, None))
        await self.runtime.background.wait_idle()


@asynccontextmanager
async def running_admin(
    database_url: str, config: LuciaConfig, clerk_js_url: str | None = None, **env: str
) -> AsyncIterator[AdminBot]:
    keys = ClerkKeys.generate()
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "LUCIA_PUBLIC_URL": origin,
            "CLERK_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "CLERK_JWT_KEY": keys.public_pem,
            **({"CLERK_JS_URL": clerk_js_url} if clerk_js_url else {}),
            **env,
        }
    )
    app = await build_server_app(settings, config)
    async with TestClient(TestServer(app, host="127.0.0.1", port=port)) as client:
        yield AdminBot(client, keys, origin)
