"""`lucia-bot shell`: a local chat room, like Hubot's shell adapter.

Type `/lucia incident open sev2 Checkout errors` and the incident is opened against the
configured database, with its channel, card and timeline printed here. Ctrl-C drops the
line being typed, cancels a form or interrupts a command, and the shell goes on; Ctrl-D
(or `exit`) ends it.
"""

from __future__ import annotations

__all__ = ["Shell"]

import asyncio
import enum
import logging
import re
import signal
from collections.abc import Sequence

from bot import log_messages as msg
from bot.console.chat import ConsoleChat
from bot.console.render import reply_text, unformat
from bot.console.terminal import Terminal
from bot.desk import Desk
from bot.errors import CommandError, StoreUnavailable, UserError
from bot.grammar import parse
from bot.incidents.commands import MAX_TITLE, OpenIncident
from bot.incidents.replies import AskForDetails, Done
from bot.vocabulary import Invocation, Severity

log = logging.getLogger(__name__)

_PREFIX = re.compile(r"^\s*/?lucia\b\s*", re.IGNORECASE)
_AT_NAME = re.compile(r"(?<![<\w])@([\w.-]+)")

_DATABASE_DOWN = (
    "❌ I can't reach the database right now, so that didn't go through — or only partly, "
    "if the connection dropped midway: check `/lucia incident list` once it's back."
)


class _Doing(enum.Enum):
    """What a Ctrl-C interrupts."""

    PROMPT = "prompt"  # waiting for a command: the line is dropped
    FORM = "form"  # asking for an incident's details: the form is cancelled
    COMMAND = "command"  # running one: it may have been applied in part


class Shell:
    def __init__(
        self,
        desk: Desk,
        chat: ConsoleChat,
        terminal: Terminal,
        *,
        user: str,
        notes: Sequence[str] = (),  # said once after the greeting (where pages and logs go)
    ) -> None:
        self._desk = desk
        self._chat = chat
        self._terminal = terminal
        self._user = user
        self._notes = notes
        self._channel = "console"
        self._doing = _Doing.PROMPT
        self._turn: asyncio.Task[bool] | None = None

    async def run(self) -> None:
        """Until `exit`, `quit` or the end of input."""
        self._write(
            f"Lucia shell: you are @{self._user} in #console. Type `/lucia help`, or `exit`."
        )
        for note in self._notes:
            self._write(note)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self._ctrl_c)
        try:
            while await self._next_turn():
                pass
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    async def _next_turn(self) -> bool:
        """One line read and handled, as a task a Ctrl-C cancels; False when it's over."""
        self._turn = asyncio.create_task(self._take_turn(), name="shell-turn")
        try:
            return await self._turn
        except asyncio.CancelledError:
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise  # the shell itself is being stopped
            self._interrupted()
            return True
        finally:
            self._turn = None

    async def _take_turn(self) -> bool:
        self._doing = _Doing.PROMPT
        line = await self._read(f"#{self._chat.channel_name(self._channel)}> ")
        if line is None:
            return False
        line = line.strip()
        if line in ("exit", "quit"):
            return False
        if line:
            self._doing = _Doing.COMMAND
            await self.handle(line)
        return True

    def _ctrl_c(self) -> None:
        if self._turn is not None:
            self._turn.cancel()

    def _interrupted(self) -> None:
        self._terminal.interrupted()
        match self._doing:
            case _Doing.FORM:
                self._write("Cancelled: no incident was opened.")
            case _Doing.COMMAND:
                self._write(
                    "⚠️ Interrupted: that command may have been applied in part, or not at "
                    "all. `/lucia incident list` shows where things stand."
                )
            case _Doing.PROMPT:
                pass

    def _write(self, text: str) -> None:
        self._terminal.say(text)

    async def _read(self, prompt: str, *, always_prompt: bool = False) -> str | None:
        return await self._terminal.ask(prompt, always_prompt=always_prompt)

    async def handle(self, line: str) -> None:
        if line.startswith("/join"):
            name = line.removeprefix("/join").strip().lstrip("#")
            if name:
                self._channel = self._chat.channel_id(name)
            return
        if line.startswith("/leave"):
            self._channel = "console"
            return
        text = _AT_NAME.sub(r"<@\1>", _PREFIX.sub("", line, count=1))
        inv = Invocation(actor=self._user, channel_id=self._channel)
        try:
            command = parse(text)
            reply = await self._desk.run(command, inv)
            if isinstance(reply, AskForDetails):
                details = await self._ask_for_details(reply.severity)
                if details is None:
                    return
                command = details
                reply = await self._desk.run(command, inv)
        except UserError as exc:
            self._write(f"⚠️ {unformat(str(exc), self._chat.channel_name)}")
            return
        except StoreUnavailable:
            self._write(_DATABASE_DOWN)
            log.error(msg.SHELL_COMMAND_FAILED, exc_info=True)
            return
        except Exception as exc:  # the console's one failure handler: said, logged, go on
            self._write(f"❌ That failed ({type(exc).__name__}); the shell goes on.")
            log.exception(msg.SHELL_COMMAND_FAILED)
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
        self._doing = _Doing.FORM
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
        self._doing = _Doing.COMMAND
        return OpenIncident(title=title, severity=severity, description=description)
