"""What the benchmarks share: a `lucia-bot serve` process on 127.0.0.1, and percentiles."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def wait_healthy(base: str, what: str = "/healthz") -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(400):
            try:
                async with http.get(base + what) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit(f"{base} never became healthy")


@asynccontextmanager
async def serving(env: dict[str, str], cwd: Path | None = None) -> AsyncIterator[str]:
    """`lucia-bot serve` with `env` (PORT is chosen here); yields its base URL."""
    port = free_port()
    full_env = {"PATH": os.environ["PATH"], "LOG_LEVEL": "WARNING", "PORT": str(port), **env}
    bot = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        env=full_env,
        cwd=cwd,
        stdout=open(os.environ.get("LUCIA_BENCH_LOG", os.devnull), "ab"),  # noqa: SIM115, ASYNC230
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(base)
        yield base
    finally:
        bot.send_signal(signal.SIGTERM)
        await bot.wait()


async def postgres_admin(database_url: str) -> asyncpg.Connection:
    """A connection to the server's `postgres` database, beside the one `database_url`
    names: to create it, or to read its counters without adding to them."""
    admin_url = make_url(database_url).set(database="postgres").render_as_string(False)
    return await asyncpg.connect(admin_url)
