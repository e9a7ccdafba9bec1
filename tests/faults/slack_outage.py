"""The local Slack, able to be down for a while: every call to a method answers 429 with
Retry-After, or a 5xx, until the outage ends (the base fake fails a number of calls;
a real outage lasts a time, however often the bot retries)."""

from __future__ import annotations

__all__ = ["OutageSlack"]

import time
from dataclasses import dataclass

from aiohttp import web

from tests.fakes.slack_api import FakeSlackAPI


@dataclass(frozen=True)
class _Outage:
    until: float  # time.monotonic()
    status: int
    error: str
    retry_after: int | None


class OutageSlack(FakeSlackAPI):
    def __init__(self) -> None:
        super().__init__()
        self._outages: dict[str, _Outage] = {}
        self.refused: list[tuple[str, int, float]] = []  # (method, status, when) answered

    def outage(
        self,
        methods: str | tuple[str, ...],
        seconds: float,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int | None = 1,
    ) -> None:
        """From now for `seconds`, calls to `methods` ("*": every method) are answered
        `status` with Slack's error body (and Retry-After, for a 429)."""
        until = time.monotonic() + seconds
        for method in (methods,) if isinstance(methods, str) else methods:
            self._outages[method] = _Outage(until, status, error, retry_after)

    def _outage_for(self, method: str) -> _Outage | None:
        now = time.monotonic()
        for name in (method, "*"):
            found = self._outages.get(name)
            if found is not None and now < found.until:
                return found
        return None

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        outage = self._outage_for(method)
        if outage is None:
            return await super()._handle_api(request)
        await request.read()
        self.refused.append((method, outage.status, time.monotonic()))
        headers = {} if outage.retry_after is None else {"Retry-After": str(outage.retry_after)}
        return web.json_response(
            {"ok": False, "error": outage.error}, status=outage.status, headers=headers
        )
