"""A redis-server of the test's own, on a free port, so it can be killed, paused and frozen
without touching the machine's shared Redis on 6379."""

from __future__ import annotations

__all__ = ["RedisServer"]

import asyncio
import contextlib
import shutil
import signal
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.drivers.ports import free_port


class RedisServer:
    """`redis-server --save "" --appendonly no`: nothing survives a kill, as with a
    restarted cache that lost its memory."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self._dir = workdir
        self._proc: asyncio.subprocess.Process | None = None
        self.stopped = False  # SIGSTOPped

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    async def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is required for the fault tests (apt-get install redis)")
        self._dir.mkdir(parents=True, exist_ok=True)
        self._proc = await asyncio.create_subprocess_exec(
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self._dir),
            "--daemonize",
            "no",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        self.stopped = False
        async with asyncio.timeout(5):
            while True:
                try:
                    async with self.client() as client:
                        await client.ping()
                    return
                except (OSError, aioredis.RedisError):
                    if self._proc.returncode is not None:
                        pytest.fail(f"redis-server on port {self.port} exited at start")
                    await asyncio.sleep(0.02)

    def client(self) -> aioredis.Redis:
        """A client of the test's, straight to the server (no proxy), for a few commands."""
        return aioredis.from_url(self.url, decode_responses=True, socket_timeout=5)

    async def kill(self) -> None:
        """SIGKILL: everything in memory is gone."""
        if self._proc is None or self._proc.returncode is not None:
            return
        if self.stopped:
            self._proc.send_signal(signal.SIGCONT)
        self._proc.kill()
        await self._proc.wait()

    async def restart_empty(self) -> None:
        await self.kill()
        await self.start()

    async def pause(self, seconds: float) -> None:
        """`CLIENT PAUSE … ALL`: every client's commands wait (this one returns at once)."""
        async with self.client() as client:
            await client.execute_command("CLIENT", "PAUSE", int(seconds * 1000), "ALL")

    def freeze(self) -> None:
        """SIGSTOP: the process is hung; the kernel still accepts connections and bytes."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)
        self.stopped = True

    def thaw(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)
        self.stopped = False

    async def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            await self.kill()
