"""`lucia-bot shell`: the local chat console, driven through stdin like a person would, and
on a terminal (a pty) for what only a terminal does: Ctrl-C and Ctrl-D."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.console.pty_shell import REPO, PtyShell, screen_lines

GREETING = "Lucia shell: you are @{user} in #console. Type `/lucia help`, or `exit`."
NOTE = (
    "Pages are shown here, not sent (`lucia-bot shell --deliver` sends them). "
    "Logs: ./lucia-shell.log"
)
CHANNEL = "inc-1-checkout-errors-spiking"
OPEN_FIRST = "/lucia incident open sev2 Checkout errors spiking"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path


def env(workdir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(workdir / "home"),
        "PYTHONPATH": str(REPO),  # this checkout, whatever is installed
        "DATABASE_URL": f"sqlite:///{workdir / 'lucia.db'}",
    }


def shell(workdir: Path, *lines: str, user: str = "alice") -> list[str]:
    """Run one shell session on the directory's database; return what it printed after
    the greeting. Nothing goes to stderr: the log lines are in the log file."""
    result = subprocess.run(  # noqa: S603 - our own entry point
        [sys.executable, "-m", "bot", "shell", "--user", user],
        cwd=workdir,
        env=env(workdir),
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=45,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    output = result.stdout.splitlines()
    assert output[:2] == [GREETING.format(user=user), NOTE]
    return output[2:]


def after(output: list[str], marker: str) -> list[str]:
    """The lines printed after the first line that starts with `marker`."""
    for n, line in enumerate(output):
        if line.startswith(marker):
            return output[n + 1 :]
    raise AssertionError(f"no line starts with {marker!r} in:\n" + "\n".join(output))


def incident_row(workdir: Path, number: int) -> dict[str, object]:
    """What the database (the truth) holds for an incident."""
    with sqlite3.connect(workdir / "lucia.db") as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM incidents WHERE number = ?", (number,)).fetchone()
    assert row is not None, f"no incident {number} stored"
    return dict(row)


# --- opening ----------------------------------------------------------------------------


def test_open_prints_the_channel_the_card_and_the_confirmation(workdir: Path) -> None:
    output = shell(workdir, OPEN_FIRST)

    assert output[0] == f"[#{CHANNEL}] channel created"
    assert f"[#{CHANNEL}] joined: @alice" in output
    assert f"[#{CHANNEL}] topic: INC-1 · SEV2 · Checkout errors spiking" in output
    assert f"[#{CHANNEL}] ┌ INC-1 · SEV2 · Checkout errors spiking" in output
    card = after(output, f"[#{CHANNEL}] ┌ ")
    assert card[0].strip() == "│ status investigating · lead @alice · acknowledged not yet"
    assert re.fullmatch(r"│ opened \d{4}-\d\d-\d\d \d\d:\d\d UTC by @alice", card[1].strip())
    # No lucia.yaml in this directory: the card says so inside its frame.
    assert card[2].strip().startswith("│ ⚠️ Nobody will be paged: lucia.yaml has no escalation")
    assert card[3].strip().startswith("└ [ack] [update] [resolve]")
    assert f"✅ Opened INC-1 (SEV2) in #{CHANNEL}." in output
    assert output[-1] == f"(you are now in #{CHANNEL}; /leave to go back)"


def test_the_lucia_prefix_is_optional(workdir: Path) -> None:
    output = shell(workdir, "incident open sev4 Staging banner typo")

    assert "✅ Opened INC-1 (SEV4) in #inc-1-staging-banner-typo." in output


# --- acknowledging ----------------------------------------------------------------------


def test_ack_in_the_incident_channel_then_again(workdir: Path) -> None:
    output = shell(workdir, OPEN_FIRST, "incident ack", "/lucia incident ack")

    rest = after(output, "(you are now in")
    assert re.fullmatch(
        rf"\[#{CHANNEL}\] \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d @alice \[acknowledged\] Acknowledged",
        rest[0],
    )
    assert rest[1] == "✅ INC-1: Acknowledged"
    assert re.fullmatch(
        r"⚠️ INC-1 was already acknowledged by @alice at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.", rest[2]
    )
    assert len(rest) == 3
    row = incident_row(workdir, 1)
    assert row["acknowledged_by"] == "alice"
    assert row["acknowledged_at"] is not None


def test_ack_outside_an_incident_channel_asks_which_incident(workdir: Path) -> None:
    output = shell(workdir, OPEN_FIRST, "/leave", "incident ack")

    last = after(output, "(you are now in")
    assert last[0].startswith("⚠️ Which incident?")
    assert "#12" in last[0]
    assert incident_row(workdir, 1)["acknowledged_at"] is None


def test_ack_by_number_works_from_anywhere(workdir: Path) -> None:
    output = shell(workdir, OPEN_FIRST, "/leave", "incident ack #1")

    assert "✅ INC-1: Acknowledged" in output


# --- bad input --------------------------------------------------------------------------


def test_bad_input_gets_a_clear_message_with_the_usage_and_the_shell_goes_on(
    workdir: Path,
) -> None:
    output = shell(
        workdir,
        "incident open sev9 x",
        "incident frob",
        "/lucia",  # help
        "incident ack #42",
        OPEN_FIRST,
    )

    assert output[0] == "⚠️ `sev9` isn't a severity: use sev1 (worst) to sev4."
    assert output[1] == "Usage: `/lucia incident open [sev1-4] <title>   (no title: a form)`"
    assert output[2].startswith("⚠️ `incident frob` isn't a command I know.")
    assert output[3] == "Usage: `/lucia help`"
    assert output[4] == "Commands:"
    help_lines = after(output, "Commands:")
    assert "  /lucia incident ack [#N]" in help_lines
    assert "Shell: /join <channel> · /leave · exit" in help_lines
    assert "⚠️ There is no incident #42. `/lucia incident list --all` shows them all." in output
    # Nothing was stored by the bad commands: the first real incident is INC-1.
    assert f"✅ Opened INC-1 (SEV2) in #{CHANNEL}." in output


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            "incident note #1a hi",
            "⚠️ `#1a` isn't an incident number: write it as #N, for example #12.",
        ),
        ("incident ack now please", "⚠️ I didn't understand `now please`."),
        ("incident sev 7", "⚠️ `7` isn't a severity. Use 1 (worst) to 4."),
        ("frobnicate infra", "⚠️ I don't know the command `frobnicate`."),
        ("page", "⚠️ Page whom? A role from the launch-gate table, or @someone."),
    ],
)
def test_each_mistake_says_what_was_wrong_and_the_right_form(
    workdir: Path, line: str, says: str
) -> None:
    output = shell(workdir, line)

    assert output[0] == says
    assert output[1].startswith("Usage: `/lucia ")


def test_exit_ends_the_session(workdir: Path) -> None:
    output = shell(workdir, "exit", OPEN_FIRST)

    assert output == []


# --- opening without a title ------------------------------------------------------------


def test_open_without_a_title_asks_for_title_severity_and_description(workdir: Path) -> None:
    output = shell(
        workdir,
        OPEN_FIRST,
        "incident open",
        "  Payments   webhook backlog ",
        "sev1",
        "Stripe retries are piling up",
        "incident list",
    )

    assert "✅ Opened INC-2 (SEV1) in #inc-2-payments-webhook-backlog." in output
    listing = [" ".join(line.split()) for line in after(output, "(you are now in #inc-2-")]
    assert listing == [
        "INC-2 SEV1 investigating Payments webhook backlog #inc-2-payments-webhook-backlog",
        f"INC-1 SEV2 investigating Checkout errors spiking #{CHANNEL}",
    ]
    row = incident_row(workdir, 2)
    assert row["title"] == "Payments webhook backlog"
    assert row["severity"] == "sev1"
    assert row["description"] == "Stripe retries are piling up"
    assert row["opened_by"] == "alice"


def test_open_without_a_title_defaults_to_sev3_and_no_description(workdir: Path) -> None:
    output = shell(workdir, "incident open", "Admin login slow", "", "")

    assert "✅ Opened INC-1 (SEV3) in #inc-1-admin-login-slow." in output
    assert incident_row(workdir, 1)["description"] == ""


def test_open_with_a_severity_but_no_title_asks_only_for_what_is_missing(
    workdir: Path,
) -> None:
    output = shell(workdir, "incident open sev1", "Payments down", "", "incident list")

    assert "Title: Description (optional): [#inc-1-payments-down] channel created" in output
    assert "✅ Opened INC-1 (SEV1) in #inc-1-payments-down." in output


def test_an_empty_title_cancels_and_a_bad_severity_is_refused(workdir: Path) -> None:
    output = shell(
        workdir, "incident open", "", "incident open", "DNS broken", "sev7", "incident list"
    )

    assert output == [  # the form's questions are printed even when stdin is a pipe
        "Title: Cancelled: no title.",
        "Title: Severity [sev3]: ⚠️ `sev7` isn't a severity.",
        "Usage: `sev1 … sev4`",
        "No open incidents.",
    ]


# --- state survives a restart -----------------------------------------------------------


def test_a_second_session_continues_numbering_and_sees_the_acknowledgement(
    workdir: Path,
) -> None:
    first = shell(workdir, OPEN_FIRST, "incident ack", "incident open", "DB pool exhausted", "2")
    assert "✅ Opened INC-2 (SEV2) in #inc-2-db-pool-exhausted." in first

    second = shell(
        workdir,
        "incident open sev3 Status page stale",
        f"/join {CHANNEL}",
        "incident show",
        user="bob",
    )

    assert "✅ Opened INC-3 (SEV3) in #inc-3-status-page-stale." in second
    card = after(second, "(you are now in #inc-3-")
    assert card[0] == "┌ INC-1 · SEV2 · Checkout errors spiking"
    assert re.fullmatch(
        r"│ status investigating · lead @alice · acknowledged @alice at "
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC",
        card[1],
    )
    assert re.fullmatch(r"│ opened .* UTC by @alice", card[2])


def test_join_accepts_a_leading_hash(workdir: Path) -> None:
    shell(workdir, OPEN_FIRST)

    output = shell(workdir, f"/join #{CHANNEL}", "incident ack", user="bob")

    assert output[-1] == "✅ INC-1: Acknowledged"
    assert incident_row(workdir, 1)["acknowledged_by"] == "bob"


# --- the timeline -----------------------------------------------------------------------


def test_timeline_lists_declared_channel_created_and_acknowledged_in_order(
    workdir: Path,
) -> None:
    output = shell(workdir, OPEN_FIRST, "incident ack", "/leave", "incident timeline #1")

    detail = after(output, "✅ INC-1: Acknowledged")
    assert detail[0] == "┌ INC-1 · SEV2 · Checkout errors spiking"
    timeline = after(detail, "Timeline (UTC):")
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
    assert len(timeline) == 4, timeline
    assert re.fullmatch(
        rf"{stamp} @alice \[declared\] Declared SEV2: Checkout errors spiking", timeline[0]
    )
    assert re.fullmatch(
        rf"{stamp} @lucia \[channel_created\] Channel #{CHANNEL} created", timeline[1]
    )
    # No lucia.yaml in this directory: said loudly on the timeline.
    assert re.fullmatch(rf"{stamp} @lucia \[escalation\] ⚠️ Nobody will be paged: .*", timeline[2])
    assert re.fullmatch(rf"{stamp} @alice \[acknowledged\] Acknowledged", timeline[3])
    stamps = [line[:19] for line in timeline]
    assert sorted(stamps) == stamps  # in time order


def test_timeline_survives_a_restart(workdir: Path) -> None:
    shell(workdir, OPEN_FIRST, "incident ack")

    output = shell(workdir, "incident timeline #1", user="bob")

    timeline = after(output, "Timeline (UTC):")
    kinds = [line.split()[3] for line in timeline]
    assert kinds == ["[declared]", "[channel_created]", "[escalation]", "[acknowledged]"]


def test_retyping_an_open_in_the_shell_names_the_incident_instead_of_opening_a_second(
    workdir: Path,
) -> None:
    out = shell(workdir, OPEN_FIRST, "/leave", OPEN_FIRST)
    refusals = [line for line in out if "didn't open a second one" in line]
    assert len(refusals) == 1
    assert refusals[0].startswith("⚠️ You opened INC-1 “Checkout errors spiking” ")
    assert f" ago in #{CHANNEL}, so" in refusals[0]
    with sqlite3.connect(workdir / "lucia.db") as conn:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone() == (1,)


def test_listings_are_plain_text_with_no_done_mark(workdir: Path) -> None:
    """The terminal gets words, not Slack's mrkdwn; and a listing changed nothing, so no ✅."""
    out = shell(workdir, "owners", "refs")
    assert out[0] == "Launch-gate owners"
    assert "• owner: ⚠️ nobody — `/lucia owners set owner @user`" in out
    assert "References (pointers, never secrets)" in out
    assert not [line for line in out if "*" in line or "✅" in line or "<" in line]


# --- Ctrl-C and Ctrl-D, typed on a terminal --------------------------------------------


def test_ctrl_c_at_the_prompt_drops_the_line_and_the_shell_goes_on(workdir: Path) -> None:
    with PtyShell(workdir, "--user", "alice") as terminal:
        terminal.expect("#console> ")
        terminal.type("/lucia incident open sev1 Half typed")
        terminal.type("\x03")
        terminal.expect("#console> ")  # a fresh prompt, at once
        terminal.type("/lucia incident list\r")
        terminal.expect("No open incidents.")  # the dropped half line was never run
        for _ in range(2):  # on an empty line, and again: a fresh prompt each time
            terminal.expect("#console> ")
            terminal.type("\x03")
        terminal.expect("#console> ")
        terminal.type(OPEN_FIRST + "\r")
        terminal.expect(f"✅ Opened INC-1 (SEV2) in #{CHANNEL}.")
        terminal.expect(f"#{CHANNEL}> ")
        terminal.type("exit\r")

        assert terminal.wait() == 0
    assert "Traceback" not in terminal.output
    assert "^C" in terminal.output  # the terminal's own echo of the keys
    assert incident_row(workdir, 1)["title"] == "Checkout errors spiking"


FORM = {"Title: ": "Payments down", "Severity [sev3]: ": "sev1", "Description (optional): ": ""}


@pytest.mark.parametrize("question", list(FORM))
def test_ctrl_c_in_the_form_cancels_it(workdir: Path, question: str) -> None:
    with PtyShell(workdir, "--user", "alice") as terminal:
        terminal.expect("#console> ")
        terminal.type("/lucia incident open\r")
        for asked, answer in FORM.items():
            terminal.expect(asked)
            if asked == question:
                break
            terminal.type(answer + "\r")
        terminal.type("half an answer\x03")

        assert terminal.expect("#console> ").endswith("Cancelled: no incident was opened.\r\n")
        terminal.type("/lucia incident list\r")
        terminal.expect("No open incidents.")
        terminal.type("exit\r")
        assert terminal.wait() == 0
    assert "Traceback" not in terminal.output
    with sqlite3.connect(workdir / "lucia.db") as conn:
        assert conn.execute("SELECT count(*) FROM incidents").fetchone() == (0,)


def test_ctrl_d_at_the_prompt_quits_cleanly(workdir: Path) -> None:
    with PtyShell(workdir, "--user", "alice") as terminal:
        terminal.expect("#console> ")
        terminal.type(OPEN_FIRST + "\r")
        terminal.expect(f"#{CHANNEL}> ")
        terminal.type("\x04")

        assert terminal.wait() == 0
    assert "Traceback" not in terminal.output
    assert screen_lines(terminal.output)[-2:] == [f"#{CHANNEL}> ", ""]  # ends on a new line
    assert incident_row(workdir, 1)["title"] == "Checkout errors spiking"


def test_ctrl_d_in_the_form_cancels_it_and_quits(workdir: Path) -> None:
    with PtyShell(workdir, "--user", "alice") as terminal:
        terminal.expect("#console> ")
        terminal.type("/lucia incident open\r")
        terminal.expect("Title: ")
        terminal.type("\x04")

        assert terminal.wait() == 0
    assert "Cancelled: no title." in terminal.output
    assert "Traceback" not in terminal.output


def test_what_comes_while_the_prompt_waits_is_shown_above_a_fresh_prompt(
    workdir: Path,
) -> None:
    example = {"LUCIA_CONFIG": str(REPO / "lucia.example.yaml"), "NTFY_URL": "http://127.0.0.1:9"}
    with PtyShell(workdir, "--user", "alice", env=example) as terminal:
        terminal.expect("#console> ")
        terminal.type(OPEN_FIRST + "\r")
        terminal.expect("[page] Paged Bob Infra")  # the escalation's, in the background
        terminal.type("exit\r")
        assert terminal.wait() == 0

    screen = screen_lines(terminal.output)
    prompts = [n for n, line in enumerate(screen) if line.startswith(f"#{CHANNEL}>")]
    assert prompts, screen
    assert screen[prompts[-1]] == f"#{CHANNEL}> exit"  # the last prompt took the typing
    assert not any(line.startswith(f"#{CHANNEL}> [#") for line in screen), screen
    assert not any(line.startswith(f"#{CHANNEL}> 📟") for line in screen), screen


def test_sigint_while_reading_a_script_interrupts_nothing_and_the_shell_goes_on(
    workdir: Path,
) -> None:
    """Not a terminal: stdin is a pipe, and the signal comes from outside (kill -INT)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "shell", "--user", "alice"],
        cwd=workdir,
        env=env(workdir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write("/lucia incident list\n")
    process.stdin.flush()
    while process.stdout.readline() != "No open incidents.\n":
        pass
    time.sleep(0.3)  # back at the prompt, waiting for the next line
    process.send_signal(signal.SIGINT)
    time.sleep(0.3)
    process.stdin.write(OPEN_FIRST + "\n")
    out, err = process.communicate(timeout=30)

    assert process.returncode == 0, err
    assert err == ""
    assert out.splitlines()[0] == f"[#{CHANNEL}] channel created"  # nothing said about it
    assert f"✅ Opened INC-1 (SEV2) in #{CHANNEL}." in out


def test_a_postmortem_in_the_shell_points_to_the_export_command(workdir: Path) -> None:
    """The shell has no Slack to upload to and, without LUCIA_PUBLIC_URL, no link: it says
    where the document is to be had."""
    (workdir / "lucia.yaml").write_text("admins: [alice]\n")
    out = shell(workdir, "incident open sev2 Checkout crashes", "postmortem #1")
    answer = next(line for line in out if line.startswith("✅ Postmortem of INC-1"))
    assert answer.endswith(
        "no link: set LUCIA_PUBLIC_URL and LUCIA_LINK_SECRET; `lucia-bot export 1` prints it here."
    )
