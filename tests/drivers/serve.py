"""`lucia-bot serve` as its own process."""

from __future__ import annotations

__all__ = ["start_serve"]

import asyncio
import sys
from pathlib import Path

import aiohttp


async def start_serve(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`lucia-bot serve` as its own process (to be killed), once /healthz answers."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"http://127.0.0.1:{env['PORT']}/healthz") as response:
                    if response.status == 200:
                        return proc
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    proc.kill()
    raise AssertionError("serve never became healthy")
