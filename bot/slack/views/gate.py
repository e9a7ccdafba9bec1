"""The launch gate as Slack shows it: a phase's verdict with every item it rests on and a
Re-check button, and the history of when and why the verdict changed.

Reasons, the `why` of a change and an exception's reason are plain text from the core:
they are escaped here, and their `*` and `~` swapped for look-alikes so a reason can't turn
bold or struck. Underscores and backticks stay: reasons name settings
(`SUPABASE_ACCESS_TOKEN`) and put commands in backticks, which must copy as they read.
"""

from __future__ import annotations

__all__ = ["GATE_ICON", "gate_history", "gate_report"]

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.durations import age_words
from bot.gate.model import GO, Evaluation, GateException, ItemResult, PhaseResult, Verdict
from bot.gate.replies import GateHistory, GateReport, VerdictChange
from bot.slack.views.ids import GATE_RECHECK_ACTION
from bot.slack.views.layout import button, packed, plain, section
from bot.slack.views.message import Message
from bot.slack.views.mrkdwn import date, escape, who

GATE_ICON = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.UNKNOWN: "❔"}

WITH_EXCEPTIONS = "GO with exceptions"
_HEADER_TEXT = 150  # Slack's limit for a header block's text
_BLOCKS = 45  # for exceptions and phases: under Slack's 50, beside header, context, button
_PHASES = 20  # shown at most, the asked one and those just before it
_EXCEPTION_SECTIONS = 3
_NAME = 80  # an item's or a phase's name, as typed (lucia.yaml allows 40)
# Each line stays well under the 2,900 characters packing keeps whole: none is cut (in an
# entity, or a date's markup) to fit a section.
_REASON = 1200  # a reason, escaped
_EXCEPTION_ITEMS = 10  # named in an exception's line; the rest are counted
_EXCEPTED_FOR = 3  # phases named beside an excepted item
_REFRESH = 300  # a refresh command, escaped
_WHY = 400  # one line of a change's why, escaped
_WHY_LINES = 6  # a change's why lines shown; the rest are counted
_LOOK_ALIKES = str.maketrans({"*": "\u2217", "~": "\u223c"})


def gate_report(report: GateReport) -> Message:
    """A phase's verdict, every item of it and of the phases before it, the exceptions
    the verdict rests on, and the Re-check button (its value: the phase)."""
    evaluation = report.evaluation
    said = _verdict(evaluation.asked)
    changed = f" (changed from {report.changed_from})" if report.changed_from else ""
    headline = f"{_icon(said)} {evaluation.phase}: {said}{changed}"
    blocks: list[Block] = [HeaderBlock(text=plain(headline[:_HEADER_TEXT]))]
    budget = _BLOCKS
    exceptions = _exceptions(evaluation)
    if exceptions:
        head = f"⚠️ *{WITH_EXCEPTIONS}*: the owner accepted these items not passing, for a while"
        shown = _fitted(
            head,
            [_exception_line(e) for e in exceptions],
            _EXCEPTION_SECTIONS,
            lambda hidden: f"…and {_counted(hidden, 'more exception')}",
        )
        blocks += shown
        budget -= len(shown)
    phases = evaluation.phases[-_PHASES:]
    if len(phases) < len(evaluation.phases):
        earlier = evaluation.phases[:-_PHASES]
        blocks.append(section(_earlier_phases(earlier)))
        budget -= 1
    excepted = _excepted_by(phases)
    for index, phase in enumerate(phases):
        later = len(phases) - index - 1  # each phase after this one keeps a section
        head = f"{_icon(_verdict(phase))} *{_said(phase.name, _NAME)}*: {_verdict(phase)}"
        lines = [
            _item_line(item, evaluation.evaluated_at, excepted.get(item.item, ()))
            for item in phase.items
        ]
        if not lines:
            head += "\n_no items of its own_"
        shown = _fitted(
            head,
            lines,
            max(1, budget - later),
            partial(_more_items, phase.name),
        )
        blocks += shown
        budget -= len(shown)
    context = f"Evaluated {date(evaluation.evaluated_at)}"
    if report.changed_from:
        context += f" · changed from {_said(report.changed_from, _NAME)}"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
    recheck = button("Re-check", GATE_RECHECK_ACTION, evaluation.phase, style="primary")
    blocks.append(ActionsBlock(block_id="gate_actions", elements=[recheck]))
    return Message(_notification(evaluation, said, changed), blocks)


def gate_history(history: GateHistory) -> Message:
    """When and why a phase's verdict changed, oldest first; when they don't all fit, the
    newest, and how many earlier ones are left out."""
    phase = _said(history.phase, _NAME)
    head = f"*{phase}: when the verdict changed*"
    if not history.evaluations:
        text = f"{history.phase}: no evaluations yet"
        return Message(text, [section(f"{head}\nNo evaluations yet: `/lucia gate {phase}`")])
    changes = len(history.changes)
    head += (
        f" — {_counted(changes, 'change')} in the last "
        f"{_counted(history.evaluations, 'evaluation')}"
    )
    sections = _fitted(
        head,
        [_change_line(change) for change in history.changes],
        _BLOCKS,
        lambda hidden: f"…{_counted(hidden, 'earlier change')} not shown",
        keep_last=True,
    )
    text = f"{history.phase}: {_counted(changes, 'verdict change')}"
    if history.changes:
        latest = history.changes[-1]
        text += f", {latest.verdict} since {latest.at:%Y-%m-%d %H:%M} UTC"
    return Message(text, sections)


def _verdict(phase: PhaseResult) -> str:
    return WITH_EXCEPTIONS if phase.verdict == GO and phase.exceptions else phase.verdict


def _icon(verdict: str) -> str:
    return {GO: "🟢", WITH_EXCEPTIONS: "🟡"}.get(verdict, "🔴")


def _more_items(phase: str, hidden: int) -> str:
    return (
        f"…and {_counted(hidden, 'more item')} of {_said(phase, _NAME)}: "
        "`lucia-bot gate --format text` lists them all"
    )


def _exceptions(evaluation: Evaluation) -> list[GateException]:
    """The exceptions of every phase shown, the asked phase's first, each once."""
    found: list[GateException] = []
    for phase in reversed(evaluation.phases):
        found += [e for e in phase.exceptions if e not in found]
    return found


def _excepted_by(phases: Sequence[PhaseResult]) -> dict[str, tuple[str, ...]]:
    """Item → the phases whose verdict an exception let go ahead without it."""
    found: dict[str, tuple[str, ...]] = {}
    for phase in phases:
        for item in {i for e in phase.exceptions for i in e.items}:
            found[item] = (*found.get(item, ()), phase.name)
    return found


def _earlier_phases(earlier: Sequence[PhaseResult]) -> str:
    named = ", ".join(f"{_said(p.name, _NAME)} {_verdict(p)}" for p in earlier[:10])
    more = f" and {len(earlier) - 10} more" if len(earlier) > 10 else ""
    return f"…{_counted(len(earlier), 'earlier phase')} not shown: {named}{more}"


def _exception_line(exception: GateException) -> str:
    items = ", ".join(f"*{_said(i, _NAME)}*" for i in exception.items[:_EXCEPTION_ITEMS])
    if len(exception.items) > _EXCEPTION_ITEMS:
        items += f" and {len(exception.items) - _EXCEPTION_ITEMS} more"
    return (
        f"⚠️ *{_said(exception.phase, _NAME)}* goes ahead without {items}: "
        f"{_said(exception.reason, _REASON // 2)} — recorded by {who(exception.recorded_by)} "
        f"{date(exception.recorded_at)}, expires {date(exception.expires_at)}"
    )


def _item_line(item: ItemResult, now: datetime, excepted_for: Sequence[str]) -> str:
    seen = (
        f"seen {age_words(now - item.observed_at)} ago"
        if item.observed_at is not None
        else "never seen"
    )
    excepted = ""
    if excepted_for and item.verdict is not Verdict.PASS:
        excepted = " · ⚠️ excepted for " + ", ".join(
            _said(p, _NAME) for p in excepted_for[:_EXCEPTED_FOR]
        )
        if len(excepted_for) > _EXCEPTED_FOR:
            excepted += f" and {len(excepted_for) - _EXCEPTED_FOR} more"
    refresh = _said(item.refresh, _REFRESH, disarm=False)  # in backticks: nothing to format
    return (
        f"{GATE_ICON[item.verdict]} *{_said(item.item, _NAME)}*{excepted} — "
        f"{_said(item.reason, _REASON)} · {seen} · `{refresh}`"
    )


def _change_line(change: VerdictChange) -> str:
    excepted = f" with {_counted(change.exceptions, 'exception')}" if change.exceptions else ""
    why = [f"      • {_said(line, _WHY)}" for line in change.why[:_WHY_LINES]]
    if len(change.why) > _WHY_LINES:
        why.append(f"      …and {len(change.why) - _WHY_LINES} more")
    return "\n".join([f"{date(change.at)} → *{_said(change.verdict, _NAME)}*{excepted}", *why])


def _notification(evaluation: Evaluation, said: str, changed: str) -> str:
    failing = [
        _said(i.item, _NAME)
        for p in evaluation.phases
        for i in p.items
        if i.verdict is not Verdict.PASS
    ]
    text = f"{evaluation.phase}: {said}{changed}"
    if failing:
        text += f" — not passing: {', '.join(failing[:10])}"
        text += f" and {len(failing) - 10} more" if len(failing) > 10 else ""
    return text


def _fitted(
    head: str,
    lines: Sequence[str],
    sections: int,
    note: Callable[[int], str],
    *,
    keep_last: bool = False,
) -> list[SectionBlock]:
    """`lines` in at most `sections` sections; what doesn't fit is left out (the last
    lines, or the first with `keep_last`) and `note(how many)` says so."""
    packed_lines, shown = packed(head, lines, sections)
    if shown == len(lines):
        return packed_lines
    for kept in range(shown, -1, -1):
        hidden = len(lines) - kept
        trial = [note(hidden), *lines[hidden:]] if keep_last else [*lines[:kept], note(hidden)]
        packed_lines, shown = packed(head, trial, sections)
        if shown == len(trial):
            break
    return packed_lines


def _said(text: str, limit: int, *, disarm: bool = True) -> str:
    """Plain text as mrkdwn within `limit` characters: escaped, with emphasis disarmed
    (`disarm`), and cut between characters (never inside `&amp;`) with an ellipsis."""
    full = escape(text)
    if disarm:
        full = full.translate(_LOOK_ALIKES)
    if len(full) <= limit:
        return full
    out: list[str] = []
    size = 0
    for char in text:
        shown = escape(char)
        if disarm:
            shown = shown.translate(_LOOK_ALIKES)
        if size + len(shown) > limit - 1:
            return "".join(out) + "…"
        out.append(shown)
        size += len(shown)
    return "".join(out)


def _counted(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"
