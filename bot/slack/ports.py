"""What the Slack front needs from outside it: short-lived "seen this already?" keys
(Slack's retried events are claimed once), kept in Upstash Redis or in-process."""

from __future__ import annotations

__all__ = ["Dedupe"]

from typing import Protocol


class Dedupe(Protocol):
    async def claim(self, key: str, ttl_seconds: int) -> bool:
        """True for the first caller of `key` within the ttl, False for every repeat.

        Raises `DedupeUnavailable` when the store can't answer; callers then process
        the item anyway, since doing a thing twice beats losing it.
        """

    async def ping(self) -> None:
        """Raise `DedupeUnavailable` when the store can't be reached."""

    async def close(self) -> None: ...
