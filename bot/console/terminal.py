"""The shell's terminal: the lines typed in, the conversation printed out.

Input is read by a thread of its own, straight from the file descriptor, into a queue the
event loop waits on, so the loop is never blocked in a read: a Ctrl-C reaches the shell at
once wherever it waits, and the end needs no Enter (the thread is a daemon, and it never
holds `sys.stdin`'s buffer lock, which would stop the interpreter from exiting).

Things printed while a prompt waits (a page sent in the background, say) go above a fresh
prompt, never after it on the same line.
"""

from __future__ import annotations

__all__ = ["Terminal"]

import asyncio
import codecs
import os
import sys
import threading
import time
from typing import TextIO

# Output this soon after a prompt is the command's own aftermath (its pages, its escalation
# starting), before anyone could type: it takes the prompt's line, and the prompt follows.
# Later output starts a new line, so nothing typed meanwhile is hidden.
_JUST_PROMPTED = 1.0  # seconds
_ERASE_LINE = "\r\x1b[K"


class Terminal:
    def __init__(self, fd: int, out: TextIO, *, interactive: bool) -> None:
        self.interactive = interactive  # a person at a terminal, not a script on stdin
        self._fd = fd
        self._out = out
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""  # typed, with no end of line yet
        self._ended = False
        self._prompt: str | None = None  # on screen, waiting (interactive only)
        self._prompted_at = 0.0

    @classmethod
    def stdio(cls) -> Terminal:
        return cls(sys.stdin.fileno(), sys.stdout, interactive=sys.stdin.isatty())

    def start(self) -> None:
        """In the running loop: from now on, what is typed is kept until asked for."""
        loop = asyncio.get_running_loop()
        reader = threading.Thread(target=self._read, args=(loop,), name="shell-input", daemon=True)
        reader.start()

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                data = os.read(self._fd, 4096)
            except OSError:  # the terminal went away (EIO on a closed pty): the end
                data = b""
            try:
                loop.call_soon_threadsafe(self._received, data)
            except RuntimeError:  # the loop is closed: the shell has ended
                return
            if not data:
                return

    def _received(self, data: bytes) -> None:
        text = self._partial + self._decoder.decode(data, final=not data)
        *lines, self._partial = text.split("\n")
        if not data and self._partial:  # the last line, with no newline
            lines.append(self._partial)
            self._partial = ""
        for line in lines:
            self._lines.put_nowait(line)
        if not data:
            self._lines.put_nowait(None)

    async def ask(self, prompt: str, *, always_prompt: bool = False) -> str | None:
        """The next line, without its newline; None at the end of input (Ctrl-D).

        The prompt is shown to a person at a terminal, and with `always_prompt` to a
        script too (a form's questions, so its answers can be read in the output)."""
        if self._ended:
            return None
        if self.interactive or always_prompt:
            self._out.write(prompt)
            self._out.flush()
        if self.interactive:
            self._prompt, self._prompted_at = prompt, time.monotonic()
        try:
            line = await self._lines.get()
        finally:
            self._prompt = None
        if line is None:
            self._ended = True
            if self.interactive:  # Ctrl-D left the cursor after the prompt
                self.say("")
        return line

    def interrupted(self) -> None:
        """After a Ctrl-C: a fresh line; at a terminal, lines typed ahead are dropped too,
        as a terminal drops what it holds on Ctrl-C."""
        self._prompt = None
        if not self.interactive:
            return
        self._out.write("\n")
        self._out.flush()
        while not self._lines.empty():
            if self._lines.get_nowait() is None:  # the end stays the end
                self._lines.put_nowait(None)
                break

    def say(self, text: str) -> None:
        """One message of the conversation (lines after the first as they are)."""
        if self._prompt is None:
            self._out.write(text + "\n")
        elif time.monotonic() - self._prompted_at < _JUST_PROMPTED:
            self._out.write(f"{_ERASE_LINE}{text}\n{self._prompt}")
        else:
            self._out.write(f"\n{text}\n{self._prompt}")
        self._out.flush()
