"""`lucia-bot shell`, put together: the terminal, the runtime, and where pages and logs go
(a composition root beside `bot.app`, so the console itself never imports the runtime).

Pages are shown in the terminal and sent nowhere unless the operator asks for `--deliver`,
so a shell on the example config never pushes to its ntfy.sh topics. Log lines go to a
file, named once at the start, never among the conversation's lines; an error logged is
also noted in the conversation, with where to read it.
"""

from __future__ import annotations

__all__ = ["run_shell"]

import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.app import build_runtime
from bot.config import LuciaConfig
from bot.console.chat import ConsoleChat
from bot.console.pages import shown_in_terminal
from bot.console.shell import Shell
from bot.console.terminal import Terminal
from bot.logs import configure_logging
from bot.paging.ports import Notifier
from bot.settings import Settings
from bot.store.database import driver_url

_LOG_FILE = Path("lucia-shell.log")  # in the working directory, like the default lucia.db


def run_shell(
    settings: Settings,
    config: LuciaConfig,
    *,
    user: str,
    deliver: bool = False,
) -> int:
    """The exit status: 0 when the shell ends (`exit`, Ctrl-D), 130 after a Ctrl-C while
    it starts or stops (the shell's own prompt takes a Ctrl-C as a cancel)."""
    terminal = Terminal.stdio()
    logs, to_file = _log_to(_LOG_FILE, settings.log_level)
    root, notice = logging.getLogger(), _ErrorNotice(terminal.say, logs)
    if to_file:
        root.addHandler(notice)
    try:
        asyncio.run(_session(settings, config, terminal, user=user, deliver=deliver, logs=logs))
    except KeyboardInterrupt:
        status = 130
    else:
        status = 0
    finally:  # what is logged as the process ends (a cancelled connection's error) is filed
        root.removeHandler(notice)
    if status == 130:
        terminal.interrupted()
        terminal.say("Interrupted.")
    return status


async def _session(
    settings: Settings,
    config: LuciaConfig,
    terminal: Terminal,
    *,
    user: str,
    deliver: bool,
    logs: str,
) -> None:
    terminal.start()
    chat = ConsoleChat(terminal.say)

    def in_terminal(real: Sequence[Notifier]) -> Sequence[Notifier]:
        return shown_in_terminal(real, terminal.say)

    try:
        runtime = await build_runtime(
            settings,
            config,
            chat,
            choose_notifiers=None if deliver else in_terminal,
            gate_chat=chat,
        )
    except Exception:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # Ctrl-C while connecting: the driver may report the cut connection instead of
            # the cancel. It is the Ctrl-C all the same, answered as one (exit 130).
            raise asyncio.CancelledError from None
        raise
    try:
        notes = _notes(settings, deliver=deliver, logs=logs)
        await Shell(runtime.desk, chat, terminal, user=user, notes=notes).run()
    finally:
        await runtime.close()


def _notes(settings: Settings, *, deliver: bool, logs: str) -> list[str]:
    if deliver:
        pages = "Pages are sent for real (--deliver)."
    else:
        pages = "Pages are shown here, not sent (`lucia-bot shell --deliver` sends them)."
    notes = [f"{pages} Logs: {logs}"]
    if not deliver and driver_url(settings.database_url).get_backend_name() != "sqlite":
        notes.append(
            "⚠️ If a running bot shares this database, pages due there may be picked up "
            "here and shown, not sent: against a live database, use --deliver."
        )
    return notes


def _log_to(path: Path, level: str) -> tuple[str, bool]:
    """Every log line into `path`, in the bot's JSON: where they go, said as the operator
    would type it, and whether that is the file (else warnings go to stderr)."""
    configure_logging(level)  # the bot's format and quiet libraries, on stdout for now
    root = logging.getLogger()
    json_lines = root.handlers[0].formatter
    try:
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        where, to_file = f"stderr, warnings only ({path}: {exc.strerror})", False
    else:
        where, to_file = (str(path) if path.is_absolute() else f"./{path}"), True
    handler.setFormatter(json_lines)
    root.handlers[:] = [handler]
    return where, to_file


class _ErrorNotice(logging.Handler):
    """An error logged, noted in the conversation in one line: the details stay in the file."""

    def __init__(self, say: Callable[[str], None], where: str) -> None:
        super().__init__(logging.ERROR)
        self._say = say
        self._where = where

    def emit(self, record: logging.LogRecord) -> None:
        self._say(f"⚠️ An error was logged ({record.getMessage()}): details in {self._where}")
