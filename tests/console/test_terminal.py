"""The shell's terminal, on a real pipe: lines in (whatever the reads cut), output that
keeps off a waiting prompt, and what a Ctrl-C drops."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import threading
from collections.abc import Iterator

import pytest

from bot.console.terminal import Terminal


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read, write = os.pipe()
    yield read, write
    # The end of input first, and the reader gone, before the read end's number is free:
    # a reader that outlived its pipe would read the next test's under the same number.
    with contextlib.suppress(OSError):  # closed by the test already
        os.close(write)
    for reader in threading.enumerate():
        if reader.name == "shell-input":
            reader.join(10)
    os.close(read)


async def test_lines_cut_anywhere_arrive_whole_and_the_end_is_none(
    pipe: tuple[int, int],
) -> None:
    read, write = pipe
    terminal = Terminal(read, io.StringIO(), interactive=False)
    terminal.start()
    os.write(write, b"/lucia incident open caf\xc3")  # a character cut in two
    await asyncio.sleep(0.05)
    os.write(write, b"\xa9\n/lucia incident li")
    await asyncio.sleep(0.05)
    os.write(write, b"st\nlast, with no newline")
    os.close(write)

    assert await terminal.ask("> ") == "/lucia incident open café"
    assert await terminal.ask("> ") == "/lucia incident list"
    assert await terminal.ask("> ") == "last, with no newline"
    assert await terminal.ask("> ") is None
    assert await terminal.ask("> ") is None  # the end stays the end


async def test_a_script_sees_only_the_questions_it_must_answer(pipe: tuple[int, int]) -> None:
    read, write = pipe
    out = io.StringIO()
    terminal = Terminal(read, out, interactive=False)
    terminal.start()
    os.write(write, b"incident open\nPayments down\n")

    assert await terminal.ask("#console> ") == "incident open"
    assert await terminal.ask("Title: ", always_prompt=True) == "Payments down"
    terminal.say("done")
    assert out.getvalue() == "Title: done\n"


async def test_output_while_a_prompt_waits_goes_above_a_fresh_prompt(
    pipe: tuple[int, int],
) -> None:
    read, write = pipe
    out = io.StringIO()
    terminal = Terminal(read, out, interactive=True)
    terminal.start()
    asked = asyncio.create_task(terminal.ask("#console> "))
    await asyncio.sleep(0.05)
    terminal.say("📟 page to Bob")  # at once: nobody has typed yet, it takes the line
    await asyncio.sleep(1.1)
    terminal.say("[#inc-1] escalation")  # later: a new line, so what was typed stays seen
    os.write(write, b"exit\n")
    assert await asked == "exit"
    terminal.say("bye")

    assert out.getvalue() == (
        "#console> \r\x1b[K📟 page to Bob\n#console> \n[#inc-1] escalation\n#console> bye\n"
    )


async def test_ctrl_c_at_a_terminal_drops_what_was_typed_ahead(pipe: tuple[int, int]) -> None:
    read, write = pipe
    out = io.StringIO()
    terminal = Terminal(read, out, interactive=True)
    terminal.start()
    os.write(write, b"/lucia incident resolve\n/lucia incident ack\n")
    await asyncio.sleep(0.1)
    terminal.interrupted()
    os.write(write, b"/lucia incident list\n")

    assert await terminal.ask("> ") == "/lucia incident list"
    assert out.getvalue() == "\n> "


async def test_ctrl_c_keeps_a_scripts_lines(pipe: tuple[int, int]) -> None:
    read, write = pipe
    terminal = Terminal(read, io.StringIO(), interactive=False)
    terminal.start()
    os.write(write, b"/lucia incident ack\n")
    os.close(write)
    await asyncio.sleep(0.1)
    terminal.interrupted()

    assert await terminal.ask("> ") == "/lucia incident ack"
    assert await terminal.ask("> ") is None
