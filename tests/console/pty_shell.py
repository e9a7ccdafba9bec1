"""`lucia-bot shell` on a pseudo-terminal, the way a person at a terminal runs it.

The pty is the shell's controlling terminal and the shell is its foreground process group,
so typing Ctrl-C (``\\x03``) makes the kernel send SIGINT, and Ctrl-D (``\\x04``) on an
empty line is the end of input, exactly as in a real terminal.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

__all__ = ["PtyShell", "screen_lines"]

REPO = Path(__file__).resolve().parents[2]

# Become the leader of a new session, take the pty on stdin as its controlling terminal,
# then be the shell.
_LAUNCH = (
    "import fcntl, os, sys, termios; os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'bot', 'shell', *sys.argv[1:]])"
)


class PtyShell:
    def __init__(self, workdir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        master, slave = pty.openpty()
        self._master = master
        self._raw = b""
        self._seen = 0  # how much of the output `expect` has looked past
        self.process = subprocess.Popen(  # noqa: S603 - our own entry point
            [sys.executable, "-c", _LAUNCH, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=workdir,
            env={
                "PATH": os.environ["PATH"],
                "HOME": str(workdir / "home"),
                "PYTHONPATH": str(REPO),
                "DATABASE_URL": f"sqlite:///{workdir / 'lucia.db'}",
                "TERM": "xterm",
                **(env or {}),
            },
        )
        os.close(slave)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self._master)

    @property
    def output(self) -> str:
        return self._raw.decode(errors="replace")

    def type(self, keys: str) -> None:
        os.write(self._master, keys.encode())

    def expect(self, text: str, timeout: float = 30.0) -> str:
        """Wait until `text` is printed after what was expected last; what came before it."""
        deadline = time.monotonic() + timeout
        while (found := self.output.find(text, self._seen)) < 0:
            if not self._read_some(deadline - time.monotonic()):
                raise AssertionError(f"{text!r} never came; the screen shows:\n{self.output}")
        before = self.output[self._seen : found]
        self._seen = found + len(text)
        return before

    def wait(self, timeout: float = 30.0) -> int:
        """The exit status, once the shell has ended and its last output is read."""
        deadline = time.monotonic() + timeout
        while self._read_some(deadline - time.monotonic()):
            pass
        return self.process.wait(max(0.0, deadline - time.monotonic()))

    def _read_some(self, timeout: float) -> bool:
        """False at the end of output (the shell closed the pty) or after `timeout`."""
        if timeout <= 0:
            return False
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self._master, 65536)
        except OSError:  # EIO: nothing has the pty open any more
            return False
        self._raw += data
        return bool(data)


def screen_lines(output: str) -> list[str]:
    """The lines as a terminal shows them: a line erased (`\\r` then `ESC [K`) is gone."""
    lines = []
    for line in output.replace("\r\n", "\n").split("\n"):
        lines.append(re.split(r"\r\x1b\[K", line)[-1])
    return lines
