"""The launch gate as plain text, for the shell, the console chat and `lucia-bot gate
--format text` in a terminal or a CI log: no Slack markup, reasons exactly as the checks
said them."""

from __future__ import annotations

from datetime import timedelta

from bot.console.chat import ConsoleChat
from bot.console.render import reply_text
from bot.gate.model import GO, NO_GO, PhaseResult, Verdict
from bot.gate.replies import GateHistory, GateReport, VerdictChange
from tests.drivers.gate_views import AT, OWNER, evaluation, exception, item

STAGING = PhaseResult(
    "staging",
    NO_GO,
    (
        item("owners", refresh="/lucia gate test-page all"),
        item("references", Verdict.FAIL, "staging_url: answers 200 to anyone", timedelta(hours=2)),
        item("alert_pipeline", Verdict.UNKNOWN, "no trace has run", None, "/lucia gate trace"),
    ),
)
GO_LIVE = PhaseResult("go-live", NO_GO, (item("backups", Verdict.FAIL, "none in 26 hours"),))


def test_the_verdict_comes_first_then_each_phase_and_two_lines_per_item() -> None:
    text = reply_text(GateReport(evaluation(STAGING, GO_LIVE)))

    assert text.splitlines() == [
        "go-live: NO-GO — evaluated 2026-03-04 05:06 UTC",
        "staging: NO-GO",
        "  ✅ owners — fine",
        "     seen 3 minutes ago · refresh: /lucia gate test-page all",
        "  ❌ references — staging_url: answers 200 to anyone",
        "     seen 2 hours ago · refresh: /lucia gate",
        "  ❔ alert_pipeline — no trace has run",
        "     never seen · refresh: /lucia gate trace",
        "go-live: NO-GO",
        "  ❌ backups — none in 26 hours",
        "     seen 3 minutes ago · refresh: /lucia gate",
    ]


def test_a_go_with_exceptions_says_so_and_names_each_exception() -> None:
    go_live = PhaseResult(
        "go-live",
        GO,
        (item("backups", Verdict.UNKNOWN, "not configured"),),
        (exception("go-live", "backups", "restore-tested"),),
    )

    lines = reply_text(GateReport(evaluation(go_live), NO_GO)).splitlines()

    assert lines[:3] == [
        "go-live: GO with exceptions (changed from NO-GO) — evaluated 2026-03-04 05:06 UTC",
        "⚠️ GO with exceptions — the owner accepted these items not passing, for a while:",
        "  ⚠️ go-live goes ahead without backups, restore-tested: the backup job runs tonight"
        f" (recorded by @{OWNER} at 2026-03-04 03:06 UTC, expires 2026-03-07 05:06 UTC)",
    ]
    assert "  ❔ backups (excepted for go-live) — not configured" in lines


def test_reasons_read_as_the_checks_said_them_without_markup() -> None:
    reason = "p95 <500 ms & *rising*: `/lucia gate trace`"
    phase = PhaseResult("staging", NO_GO, (item("services", Verdict.FAIL, reason),))

    text = reply_text(GateReport(evaluation(phase)))

    assert f"  ❌ services — {reason}" in text.splitlines()
    assert "&lt;" not in text
    assert "&amp;" not in text
    assert "<!date" not in text


def test_a_phase_without_items_of_its_own_says_so() -> None:
    signed_only = PhaseResult("go-live", GO, ())

    assert reply_text(GateReport(evaluation(signed_only))).splitlines()[1:] == [
        "go-live: GO",
        "  (no items of its own)",
    ]


def test_the_history_says_when_and_why_the_verdict_changed() -> None:
    history = GateHistory(
        "go-live",
        (
            VerdictChange(AT, NO_GO, ("backups: unknown (not configured)",)),
            VerdictChange(AT + timedelta(hours=5), GO, ("backups: unknown → pass (today)",), 2),
        ),
        evaluations=12,
    )

    assert reply_text(history).splitlines() == [
        "go-live: 2 verdict changes in the last 12 evaluations",
        "2026-03-04 05:06 UTC → NO-GO",
        "    • backups: unknown (not configured)",
        "2026-03-04 10:06 UTC → GO with 2 exceptions",
        "    • backups: unknown → pass (today)",
    ]


def test_a_phase_never_evaluated_says_so() -> None:
    text = reply_text(GateHistory("staging", (), evaluations=0))

    assert text == "staging: no evaluations yet (/lucia gate staging makes one)"


async def test_the_console_chat_announces_a_changed_verdict_as_plain_text() -> None:
    printed: list[str] = []
    reason = "answers 200 &lt;not&gt; what we expect"  # literally what was seen
    phase = PhaseResult("staging", GO, (item("references", reason=reason),))

    await ConsoleChat(printed.append).post_gate("incidents", GateReport(evaluation(phase), NO_GO))

    (said,) = printed
    assert said.splitlines() == [
        "[#incidents] staging: GO (changed from NO-GO) — evaluated 2026-03-04 05:06 UTC",
        "             staging: GO",
        f"               ✅ references — {reason}",
        "                  seen 3 minutes ago · refresh: /lucia gate",
    ]
