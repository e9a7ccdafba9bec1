"""Plain-text rendering of the bot's views for the terminal: the core's structured words
(`bot.text`) as plain text, and stored texts' `<@U…>`/`<#C…>` as a terminal shows them."""

from __future__ import annotations

__all__ = ["GATE_MARK", "card_text", "event_text", "gate_text", "reply_text", "unformat"]

import html
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.alerts.replies import AlertListing
from bot.desk import Answer
from bot.durations import age_words
from bot.gate.model import GO, Evaluation, ItemResult, PhaseResult, Verdict
from bot.gate.replies import GateHistory, GateReport
from bot.grammar import USAGE
from bot.incidents.model import Incident, TimelineEvent
from bot.incidents.replies import (
    Detail,
    Done,
    ItemList,
    Listing,
    Noted,
    PlaybookPlan,
    ShowHelp,
)
from bot.status.model import MaintenanceStatus
from bot.status.page import PageView
from bot.status.replies import StatusNow, StatusPreview
from bot.text import plain

ChannelNames = Callable[[str], str]


def unformat(text: str, channel_name: ChannelNames) -> str:
    """Slack-style markup (<@u>, <#c>, &lt;) as a terminal shows it."""
    text = re.sub(r"<@([^>|]+)(?:\|[^>]*)?>", r"@\1", text)
    text = re.sub(r"<#([^>|]+)(?:\|[^>]*)?>", lambda m: "#" + channel_name(m.group(1)), text)
    return html.unescape(text)


def _when(incident_at: object) -> str:
    return f"{incident_at:%Y-%m-%d %H:%M} UTC"


def card_text(incident: Incident, warning: str | None = None) -> str:
    ack = (
        f"@{incident.acknowledged_by} at {_when(incident.acknowledged_at)}"
        if incident.acknowledged_at
        else "not yet"
    )
    lines = [
        f"┌ {incident.key} · {incident.severity.label} · {incident.title}",
        f"│ status {incident.status.value} · lead @{incident.lead or 'nobody'} · "
        f"acknowledged {ack}",
        f"│ opened {_when(incident.created_at)} by @{incident.opened_by}",
    ]
    if incident.description:
        lines.append(f"│ {incident.description}")
    if incident.summary:
        lines.append(f"│ summary: {incident.summary}")
    if warning:
        lines.append(f"│ ⚠️ {warning}")
    if incident.status.is_open:
        actions = (
            ("update", "resolve") if incident.acknowledged_at else ("ack", "update", "resolve")
        )
        buttons = " ".join(f"[{a}]" for a in actions)
        lines.append(f"└ {buttons}   (type /lucia incident {'|'.join(actions)})")
    else:
        lines.append("└ resolved")
    return "\n".join(lines)


def event_text(event: TimelineEvent) -> str:
    return f"{event.at:%Y-%m-%d %H:%M:%S} @{event.actor} [{event.kind.value}] {event.text}"


def reply_text(reply: Answer) -> str:
    match reply:
        case GateReport(evaluation=evaluation, changed_from=changed_from):
            return gate_text(evaluation, changed_from)
        case GateHistory():
            return _gate_history(reply)
        case Done(text=text, warnings=warnings):
            return "\n".join([f"✅ {plain(text)}", *(f"⚠️ {w}" for w in warnings)])
        case Listing(incidents=incidents, include_closed=include_closed, more=more):
            listing = _listing(incidents, include_closed)
            return listing + (
                "\n(the newest shown; older ones exist: name them with #N)" if more else ""
            )
        case Detail(incident=incident, timeline=timeline):
            text = card_text(incident)
            if timeline is not None:
                text += "\nTimeline (UTC):\n" + "\n".join(event_text(e) for e in timeline)
            return text
        case Noted(text=text, warning=warning):
            return f"{'⚠️' if warning else '✅'} {plain(text)}"
        case ItemList(title=title, items=items, notes=notes):  # a listing: nothing done, no ✅
            return "\n".join(
                [plain(title), *(f"• {plain(i)}" for i in items), *(plain(n) for n in notes)]
            )
        case PlaybookPlan(run_id=run_id, text=text, choices=choices):
            forms = " or ".join(f"`/lucia playbook {c} R{run_id}`" for c in choices)
            return f"{plain(text)}\n{forms}" if forms else plain(text)
        case AlertListing(firing=firing, silences=silences):
            lines = [f"A{g.id} [{g.level}] {g.title} ×{g.count} ({g.project})" for g in firing]
            lines = lines or ["No alerts firing."]
            lines += [
                f"S{s.id} silences {('A' + str(s.group_id)) if s.group_id else s.project} "
                f"until {_when(s.ends_at)}" + (f": {s.reason}" if s.reason else "")
                for s in silences
            ]
            return "\n".join(lines)
        case StatusNow(page=page):
            return _status_now(page)
        case StatusPreview(draft_id=draft_id, title=title, lines=lines):
            return "\n".join(
                [
                    f"Preview — nothing is public yet (draft D{draft_id})",
                    title,
                    *(f"  {line}" for line in lines),
                    f"Publish: /lucia status confirm D{draft_id}"
                    f" · Cancel: /lucia status cancel D{draft_id}",
                ]
            )
        case ShowHelp():
            return (
                "Commands:\n"
                + "\n".join(f"  {u}" for u in USAGE.values())
                + ("\nShell: /join <channel> · /leave · exit")
            )
    raise AssertionError(f"no console rendering for {reply!r}")


GATE_MARK = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.UNKNOWN: "❔"}
_WITH_EXCEPTIONS = "GO with exceptions"


def gate_text(evaluation: Evaluation, changed_from: str | None = None) -> str:
    """The gate's verdict for a terminal or a CI log (`lucia-bot gate`): the verdict, the
    exceptions it rests on, then each phase and, two lines each, its items."""
    changed = f" (changed from {changed_from})" if changed_from else ""
    lines = [
        f"{evaluation.phase}: {_gate_verdict(evaluation.asked)}{changed}"
        f" — evaluated {_when(evaluation.evaluated_at)}"
    ]
    exceptions = [e for p in reversed(evaluation.phases) for e in p.exceptions]
    if exceptions:
        lines.append(
            f"⚠️ {_WITH_EXCEPTIONS} — the owner accepted these items not passing, for a while:"
        )
    for e in dict.fromkeys(exceptions):
        lines.append(
            f"  ⚠️ {e.phase} goes ahead without {', '.join(e.items)}: {e.reason}"
            f" (recorded by @{e.recorded_by} at {_when(e.recorded_at)},"
            f" expires {_when(e.expires_at)})"
        )
    excepted: dict[str, list[str]] = {}
    for phase in evaluation.phases:
        for item in dict.fromkeys(i for e in phase.exceptions for i in e.items):
            excepted.setdefault(item, []).append(phase.name)
    for phase in evaluation.phases:
        lines.append(f"{phase.name}: {_gate_verdict(phase)}")
        lines += [
            _gate_item(item, evaluation.evaluated_at, excepted.get(item.item, []))
            for item in phase.items
        ] or ["  (no items of its own)"]
    return "\n".join(lines)


def _gate_verdict(phase: PhaseResult) -> str:
    return _WITH_EXCEPTIONS if phase.verdict == GO and phase.exceptions else phase.verdict


def _gate_item(item: ItemResult, now: datetime, excepted_for: list[str]) -> str:
    seen = f"seen {age_words(now - item.observed_at)} ago" if item.observed_at else "never seen"
    excepted = (
        f" (excepted for {', '.join(excepted_for)})"
        if excepted_for and item.verdict is not Verdict.PASS
        else ""
    )
    return (
        f"  {GATE_MARK[item.verdict]} {item.item}{excepted} — {item.reason}\n"
        f"     {seen} · refresh: {item.refresh}"
    )


def _gate_history(history: GateHistory) -> str:
    if not history.evaluations:
        return f"{history.phase}: no evaluations yet (/lucia gate {history.phase} makes one)"
    count, read = len(history.changes), history.evaluations
    lines = [
        f"{history.phase}: {count} verdict change{'s' if count != 1 else ''}"
        f" in the last {read} evaluation{'s' if read != 1 else ''}"
    ]
    for change in history.changes:
        excepted = (
            f" with {change.exceptions} exception{'s' if change.exceptions != 1 else ''}"
            if change.exceptions
            else ""
        )
        lines.append(f"{_when(change.at)} → {change.verdict}{excepted}")
        lines += [f"    • {why}" for why in change.why]
    return "\n".join(lines)


def _listing(incidents: Sequence[Incident], include_closed: bool) -> str:
    if not incidents:
        return "No incidents." if include_closed else "No open incidents."
    return "\n".join(
        f"{i.key:>8} {i.severity.label} {i.status.value:<13} {i.title}"
        + (f"  #{i.channel_name}" if i.channel_name else "")
        for i in incidents
    )


def _status_now(page: PageView) -> str:
    lines = [f"{page.name} status: {page.description}"]
    if page.updated_at is not None:
        lines[0] += f" (last updated {_when(page.updated_at)})"
    if not page.components:
        lines.append("The page has no components yet: list them under status_page: in lucia.yaml.")
    for group, components in page.groups():
        indent = "  " if group else ""
        if group:
            lines.append(group)
        for c in components:
            uptime = c.uptime.percent
            lines.append(
                f"{indent}{c.config.name}: {c.state.words}"
                + (f" · {uptime:.2f} % uptime over 90 days" if uptime is not None else "")
            )
    if not page.active:
        lines.append("No active incidents.")
    else:
        lines.append("Active incidents:")
    for incident in page.active:
        affected = "; ".join(f"{n}: {s.words}" for n, s in page.named(incident.components))
        lines.append(
            f"  {incident.name} — {incident.status.value} since {_when(incident.created_at)}"
            + (f"; affects {affected}" if affected else "")
        )
        if incident.updates:
            latest = incident.updates[0]
            lines.append(f"    {latest.status.value}, {_when(latest.created_at)}: {latest.body}")
    if page.maintenances:
        lines.append("Scheduled maintenance:")
    for m in page.maintenances:
        state = (
            "in progress" if m.status(page.now) is MaintenanceStatus.IN_PROGRESS else "scheduled"
        )
        affected = ", ".join(page.name_of(c) for c in m.components)
        lines.append(
            f"  {m.name} — {state}, {_when(m.starts_at)} to {_when(m.ends_at)} ({affected})"
        )
        if m.body != m.name:
            lines.append(f"    {m.body}")
    return "\n".join(lines)
