"""What a command answers, as Slack shows it: done, listings, an incident in detail, help,
the launch gate."""

from __future__ import annotations

__all__ = ["help_message", "listing", "reply_message"]

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.alerts.model import AlertGroup, Silence
from bot.alerts.replies import AlertListing
from bot.command_text import MAX_TEXT
from bot.desk import Answer
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
from bot.slack.views.alert_notice import alert_line
from bot.slack.views.gate import gate_history, gate_report
from bot.slack.views.incident_card import SEVERITY_ICON, card_facts, card_text
from bot.slack.views.layout import packed_sections, section
from bot.slack.views.message import Message
from bot.slack.views.mrkdwn import date, escape, fallback, mentions_kept, render, who
from bot.slack.views.playbook_run import playbook_plan
from bot.slack.views.status import status_now, status_preview
from bot.slack.views.timeline import event_body, event_line
from bot.status.replies import StatusNow, StatusPreview
from bot.text import Text

_TIMELINE_LINES = 40


def reply_message(reply: Answer) -> Message:
    match reply:
        case Done(text=text, incident=incident, event=event, warnings=warnings):
            if event is not None:
                shown = said = f"{incident.key}: {event_body(event, after_actor=False)}"
            else:
                shown, said = render(text), fallback(text)
            lines = [f"✅ {shown}", *(f"⚠️ {w}" for w in warnings)]
            notification = "\n".join([f"✅ {said}", *lines[1:]])[:MAX_TEXT]
            return Message(notification, packed_sections(lines[0], lines[1:]))
        case Listing():
            return listing(reply)
        case Detail(incident=incident, timeline=timeline):
            return _detail(incident, timeline)
        case ShowHelp():
            return help_message()
        case Noted(text=str() as text, warning=warning):
            shown = mentions_kept(escape(text))  # as stored: people named by their id
            mark = "⚠️" if warning else "✅"
            return Message(f"{mark} {text}", [section(f"{mark} {shown}")])
        case Noted(text=Text() as text, warning=warning):
            mark = "⚠️" if warning else "✅"
            return Message(f"{mark} {fallback(text)}", [section(f"{mark} {render(text)}")])
        case ItemList(title=title, items=items, notes=notes):
            listed = Text(title, *(Text("\n• ", i) for i in items), *(Text("\n", n) for n in notes))
            return Message(f"✅ {fallback(listed)}", [section(f"✅ {render(listed)}")])
        case AlertListing(firing=firing, silences=silences):
            return _alert_listing(firing, silences)
        case PlaybookPlan(run_id=run_id, text=text, choices=choices):
            return playbook_plan(run_id, text, choices)
        case GateReport():
            return gate_report(reply)
        case GateHistory():
            return gate_history(reply)
        case StatusNow(page=page):
            return status_now(page)
        case StatusPreview():
            return status_preview(reply)
    raise AssertionError(f"no Slack rendering for {reply!r}")


def _alert_listing(firing: Sequence[AlertGroup], silences: Sequence[Silence]) -> Message:
    head = f"*Firing alerts: {len(firing)}*" if firing else "*No alerts firing.* 🎉"
    lines = [f"`A{g.id}` {alert_line(g)}" for g in firing]
    blocks: list[Block] = [*packed_sections(head, lines)]
    if silences:
        blocks += packed_sections(
            "*Silences*",
            [
                f"`S{s.id}` {'A' + str(s.group_id) if s.group_id else escape(s.project or '')}"
                f" until {date(s.ends_at)} by {who(s.created_by)}"
                + (f" · {escape(s.reason)}" if s.reason else "")
                for s in silences
            ],
        )
    count = len(firing)
    text = f"{count} alert{'s' if count != 1 else ''} firing" if count else "No alerts firing."
    return Message(text, blocks)


def listing(incidents: Listing) -> Message:
    if not incidents.incidents:
        text = "No incidents." if incidents.include_closed else "No open incidents. 🎉"
        return Message(text, [section(text)])
    lines = [
        f"*{i.key}* {SEVERITY_ICON[i.severity]} {i.severity.label} · {i.status.value} · "
        f"{escape(i.title)} · lead {who(i.lead)}"
        + (f" · <#{i.channel_id}>" if i.channel_id else "")
        for i in incidents.incidents
    ]
    title = "Incidents" if incidents.include_closed else "Open incidents"
    if incidents.more:
        title += f" — the newest {len(lines)}; older ones exist (name them with #N)"
    return Message(title, packed_sections(f"*{title}*", lines))


def _detail(incident: Incident, timeline: Sequence[TimelineEvent] | None) -> Message:
    blocks = card_facts(incident)
    if timeline is not None:
        shown = timeline[-_TIMELINE_LINES:]
        head = "*Timeline* (UTC)" + (
            f" — the last {len(shown)} of {len(timeline)}" if len(shown) < len(timeline) else ""
        )
        blocks += packed_sections(head, [event_line(e) for e in shown])
    return Message(card_text(incident), blocks)


def help_message() -> Message:
    lines = [f"`{usage}`" for usage in USAGE.values()]
    text = "*Lucia* — incident commands. `#N` picks an incident; in its channel it's implied.\n"
    return Message("Lucia help", [section(text + "\n".join(lines))])
