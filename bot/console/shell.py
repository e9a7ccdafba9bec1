"""`lucia-bot shell`: a local chat room, like Hubot's shell adapter.

Type `/lucia incident open sev2 Checkout errors` and the incident is opened against the
configured database, with its channel, card and timeline printed here.
"""

from __future__ import annotations

__all__ = ["Shell"]

import asyncio
import re
from collections.abc import Callable
from typing import TextIO

from bot.app import Runtime
from bot.console.chat import ConsoleChat
from bot.console.render import reply_text, unformat
from bot.errors import CommandError, UserError
from bot.incidents.commands import MAX_TITLE, OpenIncident, parse
from bot.incidents.model import Severity
from bot.incidents.replies import AskForDetails, Done
from bot.incidents.service import Invocation

_PREFIX = re.compile(r"^\s*/?lucia\b\s*", re.IGNORECASE)
_AT_NAME = re.compile(r"(?<![<\w])@([\w.-]+)")


class Shell:
    def __init__(
        self,
        runtime: Runtime,
        chat: ConsoleChat,
        *,
        user: str,
        stdin: TextIO,
        write: Callable[[str], None],
    ) -> None:
        self._runtime = runtime
        self._chat = chat
        self._user = user
        self._stdin = stdin
        self._write = write
        self._channel = "console"
        self._interactive = stdin.isatty()

    async def run(self) -> None:
        self._write(
            f"Lucia shell: you are @{self._user} in #console. Type `/lucia help`, or `exit`."
        )
        while (
            line := await self._read(f"#{self._chat.channel_name(self._channel)}> ")
        ) is not None:
            line = line.strip()
            if line in ("exit", "quit"):
                break
            if line:
                await self.handle(line)

    async def _read(self, prompt: str, *, always_prompt: bool = False) -> str | None:
        if self._interactive or always_prompt:
            self._write_prompt(prompt)
        line = await asyncio.to_thread(self._stdin.readline)
        return line if line else None

    def _write_prompt(self, prompt: str) -> None:
        print(prompt, end="", flush=True)

    async def handle(self, line: str) -> None:
        if line.startswith("/join"):
            name = line.removeprefix("/join").strip().lstrip("#")
            if name:
                self._channel = name
            return
        if line.startswith("/leave"):
            self._channel = "console"
            return
        text = _AT_NAME.sub(r"<@\1>", _PREFIX.sub("", line, count=1))
        inv = Invocation(actor=self._user, channel_id=self._channel)
        try:
            command = parse(text)
            reply = await self._runtime.desk.run(command, inv)
            if isinstance(reply, AskForDetails):
                details = await self._ask_for_details(reply.severity)
                if details is None:
                    return
                command = details
                reply = await self._runtime.desk.run(command, inv)
        except UserError as exc:
            self._write(f"⚠️ {unformat(str(exc), self._chat.channel_name)}")
            return
        self._write(unformat(reply_text(reply), self._chat.channel_name))
        if (
            isinstance(reply, Done)
            and isinstance(command, OpenIncident)
            and reply.incident.channel_id
        ):
            self._channel = reply.incident.channel_id
            self._write(f"(you are now in #{reply.incident.channel_name}; /leave to go back)")

    async def _ask_for_details(self, severity: Severity | None) -> OpenIncident | None:
        """The shell's version of Slack's form."""
        title = " ".join((await self._read("Title: ", always_prompt=True) or "").split())
        if not title:
            self._write("Cancelled: no title.")
            return None
        if len(title) > MAX_TITLE:
            raise CommandError(f"That title is over {MAX_TITLE} characters.", "Title: <text>")
        if severity is None:
            answer = (await self._read("Severity [sev3]: ", always_prompt=True) or "").strip()
            severity = Severity.parse(answer) if answer else Severity.SEV3
            if severity is None:
                raise CommandError(f"`{answer}` isn't a severity.", "sev1 … sev4")
        description = (
            await self._read("Description (optional): ", always_prompt=True) or ""
        ).strip()
        return OpenIncident(title=title, severity=severity, description=description)
