"""In-process dedupe for a single bot process (the embedded default)."""

from __future__ import annotations

__all__ = ["MemoryDedupe"]

import time
from collections.abc import Callable


class MemoryDedupe:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._expiry: dict[str, float] = {}
        self._monotonic = monotonic

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        now = self._monotonic()
        if len(self._expiry) > 10_000:
            self._expiry = {k: t for k, t in self._expiry.items() if t > now}
        if self._expiry.get(key, 0.0) > now:
            return False
        self._expiry[key] = now + ttl_seconds
        return True

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._expiry.clear()
