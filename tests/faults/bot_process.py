"""`lucia-bot serve` as a process of its own — to be killed with SIGKILL, restarted, or run
twice — with its log kept in a file the failure messages quote."""

from __future__ import annotations

__all__ = ["BotProcess"]

import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

from tests.drivers.ports import free_port


class BotProcess:
    def __init__(self, env: dict[str, str], cwd: Path, name: str = "serve") -> None:
        self.port = free_port()
        self.env = {
            "PATH": os.environ["PATH"],
            "PORT": str(self.port),
            "LOG_LEVEL": "WARNING",
            # Passed on, so the suite can run against another checkout of the bot.
            **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
            **env,
        }
        self.cwd = cwd
        self.log = cwd / f"{name}.log"
        self._proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        """Start and wait for /healthz (the schema is migrated by then)."""
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"--- start {self.starts}\n".encode())
            log.flush()
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "serve",
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                if self._proc.returncode is not None:
                    raise AssertionError(f"serve exited at start:\n{self.log_tail()}")
                try:
                    async with http.get(f"{self.base}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
        await self.kill9()
        raise AssertionError(f"serve never became healthy:\n{self.log_tail()}")

    async def kill9(self) -> None:
        """No shutdown at all: nothing in flight gets to finish."""
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGKILL)
            await self._proc.wait()

    async def stop(self) -> None:
        """SIGTERM, as Render stops an instance; SIGKILL if it takes over 30 s."""
        if self._proc is None or self._proc.returncode is not None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                await self._proc.wait()
        except TimeoutError:
            await self.kill9()

    async def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            await self.kill9()

    def log_summary(self) -> str:
        """Each distinct warning or error the bot logged, once, with its last line."""
        if not self.log.exists():
            return "(no log)"
        seen: dict[str, int] = {}
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            last = (record.get("exc_info") or "").strip().splitlines()[-1:] or [""]
            what = " ".join(
                str(x) for x in (record.get("message"), record.get("task"), last[0][:160]) if x
            )
            seen[what] = seen.get(what, 0) + 1
        return f"{self.log}:\n" + "\n".join(f"  {n} × {what}" for what, n in seen.items())

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
