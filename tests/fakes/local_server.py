"""What every fake service shares: an aiohttp app on 127.0.0.1 at a free port, started and
closed as an async context manager; served over TLS when given a server `ssl_context`."""

from __future__ import annotations

__all__ = ["LocalServer"]

import asyncio
import ssl
from typing import Self

from aiohttp import web


class LocalServer:
    """Subclasses add their routes in `routes` and may tidy up in `before_close`."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing: asyncio.Event | None = None  # set on close: ends pending delays

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def before_close(self) -> None:
        return None

    async def start(self) -> None:
        self._closing = asyncio.Event()
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl_context).start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._closing is not None:
            self._closing.set()
        await self.before_close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base(self) -> str:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started; await fake.start() first")
        scheme = "http" if self._ssl_context is None else "https"
        return f"{scheme}://127.0.0.1:{self._port}"
