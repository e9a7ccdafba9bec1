"""`HealthProbe` over aiohttp: a plain GET of a service's health URL."""

from __future__ import annotations

__all__ = ["HttpHealthProbe"]

import aiohttp

MAX_BODY = 64 * 1024  # a health page; more is not read


class HttpHealthProbe:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def get(self, url: str, within: float) -> tuple[int, str]:
        try:
            async with self._session.get(
                url, timeout=aiohttp.ClientTimeout(total=within), allow_redirects=True
            ) as response:
                body = await response.content.read(MAX_BODY)
                return response.status, body.decode(errors="replace")
        except aiohttp.ClientError as exc:
            raise OSError(f"{type(exc).__name__}") from exc
