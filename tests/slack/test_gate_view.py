"""The launch gate as Slack shows it: the verdict, every item with its icon, reason, age and
refresh command, the exceptions a GO rests on, the Re-check button, and the history."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from bot.gate.model import GO, NO_GO, PhaseResult, Verdict
from bot.gate.replies import GateHistory, GateReport, VerdictChange
from bot.slack.views.replies import reply_message
from tests.drivers.gate_views import AT, OWNER, evaluation, exception, item


def blocks_of(reply: GateReport | GateHistory) -> list[dict[str, Any]]:
    blocks = reply_message(reply).blocks_json()
    assert blocks is not None
    return blocks


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """What each block says: a header's or a section's text, a context's elements."""
    said = []
    for block in blocks:
        if "text" in block:
            said.append(block["text"]["text"])
        elif block["type"] == "context":
            said.append(" ".join(e["text"] for e in block["elements"]))
    return said


def shown(reply: GateReport | GateHistory) -> str:
    return "\n".join(texts(blocks_of(reply)))


STAGING = PhaseResult(
    "staging",
    NO_GO,
    (
        item("owners", refresh="/lucia gate test-page all"),
        item("references", Verdict.FAIL, "staging_url: answers 200 to anyone", timedelta(hours=2)),
        item("alert_pipeline", Verdict.UNKNOWN, "no trace has run", None, "/lucia gate trace"),
    ),
)


def test_the_header_names_the_phase_and_its_verdict() -> None:
    go = PhaseResult("staging", GO, (item("owners"),))

    assert blocks_of(GateReport(evaluation(go)))[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "🟢 staging: GO"},
    }
    later = PhaseResult("go-live", NO_GO, (item("backups", Verdict.FAIL),))
    header = blocks_of(GateReport(evaluation(go, later)))[0]
    assert header["text"]["text"] == "🔴 go-live: NO-GO"


def test_each_item_shows_its_icon_reason_age_and_refresh_command() -> None:
    lines = shown(GateReport(evaluation(STAGING))).splitlines()

    assert "✅ *owners* — fine · seen 3 minutes ago · `/lucia gate test-page all`" in lines
    assert (
        "❌ *references* — staging_url: answers 200 to anyone · seen 2 hours ago · `/lucia gate`"
        in lines
    )
    assert "❔ *alert_pipeline* — no trace has run · never seen · `/lucia gate trace`" in lines


def test_every_phase_up_to_the_asked_one_has_its_own_section_and_verdict() -> None:
    go_live = PhaseResult("go-live", NO_GO, (item("backups"),))

    said = texts(blocks_of(GateReport(evaluation(STAGING, go_live))))

    (staging_section,) = [t for t in said if t.startswith("🔴 *staging*: NO-GO")]
    (go_live_section,) = [t for t in said if t.startswith("🔴 *go-live*: NO-GO")]
    assert "*references*" in staging_section
    assert "*backups*" not in staging_section
    assert "✅ *backups*" in go_live_section
    assert said.index(staging_section) < said.index(go_live_section)


def test_a_go_resting_on_exceptions_says_so_and_names_each_one_loudly() -> None:
    excused = exception("go-live", "backups", "restore-tested")
    go_live = PhaseResult(
        "go-live",
        GO,
        (item("backups", Verdict.UNKNOWN, "not configured"), item("rollback_drill")),
        (excused,),
    )
    report = GateReport(evaluation(PhaseResult("staging", GO, (item("owners"),)), go_live))

    blocks = blocks_of(report)

    assert blocks[0]["text"]["text"] == "🟡 go-live: GO with exceptions"
    warning = blocks[1]["text"]["text"]  # right under the header, before any phase
    assert warning.startswith("⚠️ *GO with exceptions*")
    assert "*go-live* goes ahead without *backups*, *restore-tested*" in warning
    assert "the backup job runs tonight" in warning
    assert f"recorded by <@{OWNER}>" in warning
    assert f"expires <!date^{int((AT + timedelta(days=3)).timestamp())}^" in warning
    assert "|2026-03-07 05:06 UTC>" in warning
    assert "❔ *backups* · ⚠️ excepted for go-live — not configured" in shown(report)
    assert "🟡 *go-live*: GO with exceptions" in shown(report)
    (staging,) = [t for t in texts(blocks) if t.startswith("🟢 *staging*: GO")]
    assert "excepted" not in staging
    assert reply_message(report).text.startswith("go-live: GO with exceptions")


def test_a_plain_go_shows_no_exceptions() -> None:
    report = GateReport(evaluation(PhaseResult("staging", GO, (item("owners"),))))

    assert "exception" not in json.dumps(blocks_of(report)).lower()


def test_a_changed_verdict_says_what_it_changed_from() -> None:
    report = GateReport(evaluation(PhaseResult("staging", GO, (item("owners"),))), NO_GO)

    blocks = blocks_of(report)

    assert blocks[0]["text"]["text"] == "🟢 staging: GO (changed from NO-GO)"
    (context,) = [b for b in blocks if b["type"] == "context"]
    assert context["elements"][0]["text"].startswith(f"Evaluated <!date^{int(AT.timestamp())}^")
    assert context["elements"][0]["text"].endswith(" · changed from NO-GO")
    assert reply_message(report).text == "staging: GO (changed from NO-GO)"


def test_an_unchanged_verdict_says_nothing_of_a_change() -> None:
    assert "changed" not in shown(GateReport(evaluation(STAGING)))


def test_the_recheck_button_carries_the_phase() -> None:
    go_live = PhaseResult("go-live", NO_GO, (item("backups"),))

    actions = blocks_of(GateReport(evaluation(STAGING, go_live)))[-1]

    assert actions["type"] == "actions"
    (recheck,) = actions["elements"]
    assert recheck["action_id"] == "lucia_gate_recheck"
    assert recheck["value"] == "go-live"
    assert recheck["text"]["text"] == "Re-check"


def test_reasons_are_plain_text_that_can_neither_format_nor_link_nor_ping() -> None:
    reason = "p95 <500 ms & *rising* ~fast~ <!channel> <https://evil.example|login>"
    phase = PhaseResult("staging", NO_GO, (item("services", Verdict.FAIL, reason),))
    excused = exception("staging", "services", reason="ok *for now* & <@U0>")
    with_exception = PhaseResult(
        "staging", GO, (item("services", Verdict.FAIL, reason),), (excused,)
    )

    said = shown(GateReport(evaluation(phase)))
    excepted = shown(GateReport(evaluation(with_exception)))

    assert (
        "p95 &lt;500 ms &amp; ∗rising∗ ∼fast∼ &lt;!channel&gt; "
        "&lt;https://evil.example|login&gt;" in said
    )
    assert "ok ∗for now∗ &amp; &lt;@U0&gt;" in excepted
    for text in (said, excepted):
        assert "*rising*" not in text
        assert "<!channel>" not in text
        assert "<https://evil" not in text
        assert "<@U0>" not in text
        assert " & " not in text


def test_a_refresh_command_copies_as_it_reads() -> None:
    refresh = "/lucia playbook run drill <staging service>"
    phase = PhaseResult("go-live", NO_GO, (item("rollback_drill", Verdict.FAIL, refresh=refresh),))

    assert "`/lucia playbook run drill &lt;staging service&gt;`" in shown(
        GateReport(evaluation(phase))
    )


def test_many_long_items_stay_within_slacks_limits_and_say_how_many_are_left_out() -> None:
    long_reason = "&" * 3000  # five times as long once escaped
    phases = tuple(
        PhaseResult(
            name,
            NO_GO,
            tuple(item(f"item-{n}", Verdict.FAIL, long_reason) for n in range(200)),
            tuple(
                exception(name, *(f"item-{n}" for n in range(200)), reason=long_reason, number=e)
                for e in range(5)
            ),
        )
        for name in ("staging", "canary", "go-live")
    )
    report = GateReport(evaluation(*phases))

    blocks = blocks_of(report)

    assert len(blocks) <= 50
    assert all(len(t) <= 3000 for t in texts(blocks))
    assert blocks[0]["type"] == "header"
    assert blocks[-1]["elements"][0]["action_id"] == "lucia_gate_recheck"  # always there
    said = texts(blocks)
    for name in ("staging", "canary", "go-live"):  # every phase keeps its section
        heads = [t for t in said if t.startswith(f"🔴 *{name}*: NO-GO")]
        assert len(heads) == 1
        (more,) = [t for t in said if f"more items of {name}:" in t]
        hidden = int(more.split("…and ")[1].split(" ")[0])
        section_texts = said[said.index(heads[0]) : said.index(more) + 1]
        listed = sum(t.count("❌ *item-") for t in section_texts)
        assert listed + hidden == 200
        assert listed > 0
    assert any("more exceptions" in t for t in said)
    assert "&amp;" * 200 in "".join(said)  # a reason is cut between entities, never in one
    assert not [t for t in said if re.search(r"&(?!amp;|lt;|gt;)", t)]  # no entity cut


def test_a_gate_of_many_phases_shows_the_last_twenty_and_counts_the_others() -> None:
    phases = [PhaseResult(f"p{n}", GO, (item(f"i{n}"),)) for n in range(25)]

    said = texts(blocks_of(GateReport(evaluation(*phases))))

    assert said[1] == "…5 earlier phases not shown: p0 GO, p1 GO, p2 GO, p3 GO, p4 GO"
    assert [t.split("\n")[0] for t in said[2:-1]] == [f"🟢 *p{n}*: GO" for n in range(5, 25)]


def test_the_history_says_when_and_why_the_verdict_changed() -> None:
    history = GateHistory(
        "go-live",
        (
            VerdictChange(AT, NO_GO, ("backups: unknown (not configured <yet> & *soon*)",)),
            VerdictChange(
                AT + timedelta(hours=5), GO, ("backups: unknown → pass (a backup today)",), 1
            ),
        ),
        evaluations=12,
    )

    (section,) = blocks_of(history)
    lines = section["text"]["text"].splitlines()

    assert lines[0] == "*go-live: when the verdict changed* — 2 changes in the last 12 evaluations"
    assert lines[1].startswith(f"<!date^{int(AT.timestamp())}^")
    assert lines[1].endswith("|2026-03-04 05:06 UTC> → *NO-GO*")
    assert lines[2] == "      • backups: unknown (not configured &lt;yet&gt; &amp; ∗soon∗)"
    assert lines[3].endswith("|2026-03-04 10:06 UTC> → *GO* with 1 exception")
    assert lines[4] == "      • backups: unknown → pass (a backup today)"
    assert (
        reply_message(history).text == "go-live: 2 verdict changes, GO since 2026-03-04 10:06 UTC"
    )


def test_a_phase_never_evaluated_says_so() -> None:
    history = GateHistory("staging", (), evaluations=0)

    assert shown(history) == (
        "*staging: when the verdict changed*\nNo evaluations yet: `/lucia gate staging`"
    )
    assert reply_message(history).text == "staging: no evaluations yet"


def test_a_long_history_keeps_the_newest_changes_within_slacks_limits() -> None:
    changes = tuple(
        VerdictChange(
            AT + timedelta(hours=n),
            GO if n % 2 else NO_GO,
            tuple(f"item-{i}: pass → fail ({'<' * 500})" for i in range(10)),
        )
        for n in range(500)
    )

    blocks = blocks_of(GateHistory("go-live", changes, evaluations=500))

    assert len(blocks) <= 50
    said = texts(blocks)
    assert all(len(t) <= 3000 for t in said)
    newest = f"|{AT + timedelta(hours=499):%Y-%m-%d %H:%M} UTC> → *GO*"
    assert newest in said[-1].splitlines()[-8]  # the newest last, its six whys and a count
    assert said[-1].splitlines()[-1] == "      …and 4 more"
    hidden = int(said[0].splitlines()[1].split("…")[1].split(" ")[0])
    assert hidden + sum(t.count(" → *") for t in said) == 500
