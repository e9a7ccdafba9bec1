"""`GET /healthz` (the process answers) and `GET /readyz` (what it depends on answers)."""

from __future__ import annotations

__all__ = ["Health"]

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.errors import DedupeUnavailable, StoreUnavailable
from bot.slack.identity import SlackIdentity

READY_TIMEOUT = 3.0

Ping = Callable[[], Awaitable[None]]


class Health:
    def __init__(
        self, database: Ping, redis: Ping | None, slack: SlackIdentity | None = None
    ) -> None:
        self._database = database
        self._redis = redis  # None: dedupe is in-process
        self._slack = slack

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/healthz", self.healthz), web.get("/readyz", self.readyz)]

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(self, _request: web.Request) -> web.Response:
        checks = {"database": await _check(self._database, StoreUnavailable)}
        if self._redis is not None:
            checks["redis"] = await _check(self._redis, DedupeUnavailable)
        else:
            checks["redis"] = "in-process"
        if self._slack is not None:
            checks["slack"] = await self._slack.readiness()
        ready = all(not v.startswith("down") for v in checks.values())
        return web.json_response(
            {"status": "ready" if ready else "unavailable", **checks}, status=200 if ready else 503
        )


async def _check(ping: Ping, failure: type[Exception]) -> str:
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            await ping()
    except (failure, TimeoutError) as exc:
        return f"down: {exc or 'timeout'}"
    return "ok"
