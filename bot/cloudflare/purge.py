"""`CachePurge` over Cloudflare's API: `POST /zones/{zone_id}/purge_cache` with the URLs."""

from __future__ import annotations

__all__ = ["CloudflarePurge"]

from collections.abc import Sequence

import aiohttp

from bot.errors import CachePurgeFailed


class CloudflarePurge:
    def __init__(
        self, session: aiohttp.ClientSession, token: str, zone_id: str, base_url: str
    ) -> None:
        self._session = session
        self._token = token
        self._zone = zone_id
        self._base = base_url.rstrip("/")

    async def purge(self, urls: Sequence[str]) -> None:
        raise CachePurgeFailed("not built yet")
