"""`lucia-bot shell` as a whole, run as a real process: where its pages go (this terminal,
unless `--deliver`), where its logs go (a file, never among the conversation's lines), and
what it says when the database fails under it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.console.pages import NOT_SENT
from tests.console.pty_shell import REPO
from tests.drivers.services import proxy_url
from tests.fakes.ntfy import FakeNtfy
from tests.fakes.tcp_proxy import TcpProxy

EXAMPLE = REPO / "lucia.example.yaml"  # Bob Infra's push topic is on ntfy.sh, in public
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
PAGE_AND_OPEN = ["/lucia page infra disk full", "/lucia incident open sev1 Checkout down"]
PAGED = "[page] Paged Bob Infra (infra)"  # the escalation's page, the last thing to happen
NOTE_SHOWN = (
    "Pages are shown here, not sent (`lucia-bot shell --deliver` sends them). "
    "Logs: ./lucia-shell.log"
)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path


@pytest.fixture
async def ntfy() -> AsyncIterator[FakeNtfy]:
    async with FakeNtfy() as fake:
        yield fake


class ShellProcess:
    """One `lucia-bot shell` on pipes, driven line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls, workdir: Path, *args: str, database: str | None = None, **env: str
    ) -> ShellProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "shell",
            "--user",
            "alice",
            *args,
            cwd=workdir,
            env={
                "PATH": os.environ["PATH"],
                "HOME": str(workdir / "home"),
                "PYTHONPATH": str(REPO),
                "DATABASE_URL": database or f"sqlite:///{workdir / 'lucia.db'}",
                **env,
            },
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()

    async def until(self, wanted: str) -> list[str]:
        """The lines printed up to the first one that contains `wanted`, that one too."""
        assert self.process.stdout is not None
        lines: list[str] = []
        while not lines or wanted not in lines[-1]:
            raw = await asyncio.wait_for(self.process.stdout.readline(), 30)
            assert raw, f"the shell ended before {wanted!r}:\n" + "\n".join(lines)
            lines.append(raw.decode().rstrip("\n"))
        return lines

    async def finish(self, *lines: str) -> tuple[int, list[str], str]:
        """Send the last lines and the end of input: exit status, the rest printed, stderr."""
        assert self.process.stdin is not None
        for line in lines:
            await self.send(line)
        self.process.stdin.close()
        out, err = await asyncio.wait_for(self.process.communicate(), 45)
        assert self.process.returncode is not None
        return self.process.returncode, out.decode().splitlines(), err.decode()


async def shell(
    workdir: Path, *lines: str, until: str, args: tuple[str, ...] = (), **env: str
) -> list[str]:
    """A session on the example config, ended once it has printed `until`: what it printed.
    Nothing on stderr."""
    process = await ShellProcess.start(workdir, *args, LUCIA_CONFIG=str(EXAMPLE), **env)
    for line in lines:
        await process.send(line)
    output = await process.until(until)
    status, rest, err = await process.finish()
    assert status == 0, err
    assert err == ""
    return output + rest


def blocks(output: list[str], header: str) -> list[list[str]]:
    """Each message starting with `header`, with the indented lines under it."""
    found = []
    for n, line in enumerate(output):
        if line.startswith(header):
            rest = output[n + 1 :]
            end = next((i for i, x in enumerate(rest) if not x.startswith("   ")), len(rest))
            found.append([line, *rest[:end]])
    return found


def deliveries(workdir: Path) -> list[tuple[str, int, str]]:
    """What the database (the truth) records of each page's channels."""
    with sqlite3.connect(workdir / "lucia.db") as conn:
        rows = conn.execute("SELECT channel, ok, detail FROM page_deliveries ORDER BY id")
        return rows.fetchall()


# --- pages ------------------------------------------------------------------------------


async def test_pages_on_the_example_config_are_shown_here_and_sent_nowhere(
    workdir: Path, ntfy: FakeNtfy
) -> None:
    output = await shell(workdir, *PAGE_AND_OPEN, until=PAGED, NTFY_URL=ntfy.url)

    assert ntfy.published == []  # not one request reached the ntfy server
    assert output[1] == NOTE_SHOWN
    assert "✅ Paging Bob Infra by push. Their answer stops it." in output
    assert sorted(blocks(output, "📟")) == [
        [
            f"📟 urgent page to Bob Infra by push ({NOT_SENT})",
            "   Page from alice",
            "   disk full",
            "   You are paged as infra. Acknowledge with the button in Slack.",
        ],
        [
            f"📟 urgent page to Bob Infra by push ({NOT_SENT})",
            "   SEV1 INC-1: Checkout down",
            "   You are paged as infra. Acknowledge with the button in Slack or "
            "“/lucia incident ack #1”.",
        ],
    ]
    # The timeline says what happened: not sent, and why.
    assert any(
        re.fullmatch(
            rf"\[#inc-1-checkout-down\] {STAMP} @lucia \[page\] Paged Bob Infra \(infra\): "
            rf"push ✗ \({re.escape(NOT_SENT)}\)",
            line,
        )
        for line in output
    ), output
    assert deliveries(workdir) == [("push", 0, NOT_SENT), ("push", 0, NOT_SENT)]


async def test_deliver_sends_the_pages_for_real(workdir: Path, ntfy: FakeNtfy) -> None:
    output = await shell(
        workdir, *PAGE_AND_OPEN, until=PAGED, args=("--deliver",), NTFY_URL=ntfy.url
    )

    assert output[1] == "Pages are sent for real (--deliver). Logs: ./lucia-shell.log"
    assert [p.topic for p in ntfy.delivered] == ["lucia-bob-93jd", "lucia-bob-93jd"]
    assert [p.json()["title"] for p in ntfy.delivered] == [
        "Page from alice",
        "SEV1 INC-1: Checkout down",
    ]
    assert not any("📟" in line for line in output)
    assert any(line.endswith("[page] Paged Bob Infra (infra): push ✓") for line in output)
    assert [(channel, ok) for channel, ok, _ in deliveries(workdir)] == [("push", 1), ("push", 1)]


# --- the launch gate --------------------------------------------------------------------


async def test_a_changed_gate_verdict_is_announced_in_the_shells_incidents_channel(
    workdir: Path,
) -> None:
    config = workdir / "gate.yaml"  # judged from the database alone: nothing to fetch
    config.write_text("gate:\n  phases:\n    staging:\n      items: [incidents]\n")
    process = await ShellProcess.start(
        workdir, LUCIA_CONFIG=str(config), LUCIA_INCIDENTS_CHANNEL="console"
    )

    status, output, err = await process.finish("/lucia gate", "/lucia gate")

    assert status == 0, err
    evaluated = r"staging: GO — evaluated \d{4}-\d\d-\d\d \d\d:\d\d UTC"
    announced = [line for line in output if line.startswith("[#console] ")]
    assert len(announced) == 1, output  # the first verdict; the second is the same
    assert re.fullmatch(rf"\[#console\] {evaluated}", announced[0])
    assert len([line for line in output if re.fullmatch(evaluated, line)]) == 2  # the answers
    assert (
        "  ✅ incidents — no open SEV1/SEV2; every recent one has its postmortem; no "
        "blocking follow-up open" in output
    )


# --- logs -------------------------------------------------------------------------------


async def test_log_lines_go_to_the_log_file_never_among_the_conversation(
    workdir: Path, ntfy: FakeNtfy
) -> None:
    output = await shell(workdir, *PAGE_AND_OPEN, until=PAGED, NTFY_URL=ntfy.url)

    assert not [line for line in output if line.lstrip().startswith("{")]
    logged = [json.loads(line) for line in (workdir / "lucia-shell.log").read_text().splitlines()]
    messages = [entry["message"] for entry in logged]
    assert "launch_gate_loaded" in messages  # INFO too: the file has what LOG_LEVEL asks
    assert "incident_opened" in messages
    not_sent = [entry for entry in logged if entry["message"] == "page_delivery_failed"]
    assert [entry["error"] for entry in not_sent] == [NOT_SENT, NOT_SENT]


async def test_a_second_session_adds_to_the_log_file(workdir: Path, ntfy: FakeNtfy) -> None:
    await shell(workdir, "/lucia incident open sev3 First", until="✅ Opened", NTFY_URL=ntfy.url)
    await shell(workdir, "/lucia incident open sev3 Second", until="✅ Opened", NTFY_URL=ntfy.url)

    logged = (workdir / "lucia-shell.log").read_text().splitlines()
    opened = [json.loads(line) for line in logged if '"incident_opened"' in line]
    assert [entry["incident"] for entry in opened] == [1, 2]


async def test_a_log_file_that_cannot_be_written_leaves_warnings_on_stderr(
    workdir: Path, ntfy: FakeNtfy
) -> None:
    (workdir / "lucia-shell.log").mkdir()
    process = await ShellProcess.start(workdir, LUCIA_CONFIG=str(EXAMPLE), NTFY_URL=ntfy.url)
    for line in PAGE_AND_OPEN:
        await process.send(line)
    output = await process.until(PAGED)
    status, rest, err = await process.finish()
    output += rest

    assert status == 0
    assert output[1] == (
        "Pages are shown here, not sent (`lucia-bot shell --deliver` sends them). "
        "Logs: stderr, warnings only (lucia-shell.log: Is a directory)"
    )
    assert not [line for line in output if line.lstrip().startswith("{")]
    warnings = [json.loads(line) for line in err.splitlines()]
    assert {entry["level"] for entry in warnings} == {"WARNING"}
    assert {entry["message"] for entry in warnings} == {"page_delivery_failed"}


# --- the database failing under the shell ----------------------------------------------


async def test_a_database_gone_is_said_in_the_conversation_and_the_shell_goes_on(
    workdir: Path, postgres_proxy: TcpProxy
) -> None:
    process = await ShellProcess.start(workdir, database=proxy_url(postgres_proxy))
    assert (await process.until("⚠️"))[1:] == [
        NOTE_SHOWN,
        "⚠️ If a running bot shares this database, pages due there may be picked up "
        "here and shown, not sent: against a live database, use --deliver.",
    ]
    await postgres_proxy.refuse()
    await process.send("/lucia incident list")
    said = await process.until("⚠️ An error was logged")
    await postgres_proxy.resume()
    status, rest, err = await process.finish("/lucia incident list")

    assert said == [
        "❌ I can't reach the database right now, so that didn't go through — or only partly, "
        "if the connection dropped midway: check `/lucia incident list` once it's back.",
        "⚠️ An error was logged (shell_command_failed): details in ./lucia-shell.log",
    ]
    assert status == 0
    assert err == ""
    assert rest == ["No open incidents."]
    logged = (workdir / "lucia-shell.log").read_text()
    assert '"message": "shell_command_failed"' in logged
    assert "Traceback" in logged  # the details are in the file, not in the conversation


async def test_ctrl_c_interrupts_a_command_stuck_on_the_database(
    workdir: Path, postgres_proxy: TcpProxy
) -> None:
    process = await ShellProcess.start(workdir, database=proxy_url(postgres_proxy))
    await process.until("⚠️ If a running bot shares this database")
    postgres_proxy.hang()
    await process.send("/lucia incident list")
    await asyncio.sleep(0.5)  # the command waits for the database's answer
    process.process.send_signal(signal.SIGINT)
    said = await process.until("⚠️ Interrupted")
    await postgres_proxy.resume()
    status, rest, err = await process.finish("/lucia incident list")

    assert said == [
        "⚠️ Interrupted: that command may have been applied in part, or not at all. "
        "`/lucia incident list` shows where things stand."
    ]
    assert status == 0
    assert err == ""
    assert rest == ["No open incidents."]


def test_ctrl_c_while_the_shell_starts_ends_it_without_a_traceback(workdir: Path) -> None:
    """A database that takes the connection and never answers: the shell waits at start."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "shell", "--user", "alice"],
            cwd=workdir,
            env={
                "PATH": os.environ["PATH"],
                "HOME": str(workdir / "home"),
                "PYTHONPATH": str(REPO),
                "DATABASE_URL": f"postgresql://lucia@127.0.0.1:{port}/lucia",
            },
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            # A job started in the background by a non-interactive shell ignores SIGINT,
            # and a child inherits that: the shell must meet Ctrl-C as a terminal sends it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        silent.settimeout(30)
        connection, _ = silent.accept()  # the shell is building its runtime now
        with connection:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)

    assert process.returncode == 130, (out, err)
    assert out == "Interrupted.\n"
    assert err == ""
