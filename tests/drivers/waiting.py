"""Waiting for work another task or process does: poll until a check holds, or fail."""

from __future__ import annotations

__all__ = ["until", "until_true"]

import asyncio
from collections.abc import Awaitable, Callable


async def until(check: Callable[[], Awaitable[object]], limit: float = 10.0) -> None:
    """Poll `check` (the database, a fake's inbox) until it holds; fail after `limit` s."""
    async with asyncio.timeout(limit):
        while not await check():  # noqa: ASYNC110 - polling another process's work
            await asyncio.sleep(0.05)


async def until_true(check: Callable[[], bool], limit: float = 10.0) -> None:
    """Poll the Slack stand-in's state: the bot's timers decide when it changes."""
    async with asyncio.timeout(limit):
        while not check():  # noqa: ASYNC110 - nothing to await but the clock
            await asyncio.sleep(0.05)
