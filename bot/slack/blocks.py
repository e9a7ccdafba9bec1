"""Block Kit rendering: one renderer per view, always from stored state."""

from __future__ import annotations

__all__ = [
    "ACK_ACTION",
    "ALERT_ACK_ACTION",
    "ALERT_OPEN_ACTION",
    "ALERT_SILENCE_ACTION",
    "DECLARE_CALLBACK",
    "PAGE_ACK_ACTION",
    "RESOLVE_ACTION",
    "RUN_ACTIONS",
    "UPDATE_ACTION",
    "UPDATE_CALLBACK",
    "Message",
    "alert_notice",
    "announcement",
    "declare_modal",
    "escape",
    "event_line",
    "help_message",
    "home_view",
    "incident_card",
    "mentions_kept",
    "reply_message",
    "update_modal",
]

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.alerts.model import AlertGroup, GroupStatus, Notice, Silence
from bot.incidents.commands import MAX_TEXT, MAX_TITLE, USAGE
from bot.incidents.lifecycle import WORKING_STATUSES
from bot.incidents.model import EventKind, Incident, Severity, Status, TimelineEvent
from bot.incidents.replies import (
    AlertListing,
    Detail,
    Done,
    Listing,
    Noted,
    PlaybookPlan,
    Reply,
    ShowHelp,
)
from bot.incidents.service import SYSTEM_ACTOR

ACK_ACTION = "lucia_ack"
UPDATE_ACTION = "lucia_update"
RESOLVE_ACTION = "lucia_resolve"
DECLARE_CALLBACK = "lucia_declare_incident"
UPDATE_CALLBACK = "lucia_update_incident"

Block = dict[str, Any]
TIMELINE_LINES = 40

_SEVERITY_ICON = {
    Severity.SEV1: "🔴",
    Severity.SEV2: "🟠",
    Severity.SEV3: "🟡",
    Severity.SEV4: "🔵",
}
_STATUS_ICON = {
    Status.INVESTIGATING: "🔎",
    Status.IDENTIFIED: "🎯",
    Status.MONITORING: "👀",
    Status.MITIGATED: "🩹",
    Status.RESOLVED: "✅",
}


@dataclass(frozen=True)
class Message:
    text: str  # the notification and fallback text
    blocks: list[Block] = field(default_factory=list)


def escape(text: str) -> str:
    """Plain text (what people typed) made safe for mrkdwn: no surprise @channel or links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _date(incident_at: Any, fmt: str = "{date_short_pretty} {time}") -> str:
    stamp = int(incident_at.timestamp())
    return f"<!date^{stamp}^{fmt}|{incident_at:%Y-%m-%d %H:%M} UTC>"


def _who(user: str | None) -> str:
    if not user:
        return "_nobody yet_"
    return "Lucia" if user == SYSTEM_ACTOR else f"<@{user}>"


def _headline(incident: Incident, *, mrkdwn: bool) -> str:
    title = escape(incident.title) if mrkdwn else incident.title
    return (
        f"{_SEVERITY_ICON[incident.severity]} {incident.key} · {incident.severity.label} · {title}"
    )


def incident_card(incident: Incident, warning: str | None = None) -> Message:
    state = f"{_STATUS_ICON[incident.status]} {incident.status.value}"
    ack = (
        f"{_who(incident.acknowledged_by)} at {_date(incident.acknowledged_at, '{time}')}"
        if incident.acknowledged_at
        else "_not yet_"
    )
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _headline(incident, mrkdwn=False)[:150]},
        },
        {
            "type": "section",
            "block_id": "facts",
            "fields": [
                {"type": "mrkdwn", "text": f"*Severity*\n{incident.severity.label}"},
                {"type": "mrkdwn", "text": f"*Status*\n{state}"},
                {"type": "mrkdwn", "text": f"*Lead*\n{_who(incident.lead)}"},
                {"type": "mrkdwn", "text": f"*Acknowledged*\n{ack}"},
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Opened {_date(incident.created_at, '{ago}')} by "
                    f"{_who(incident.opened_by)}"
                    + (f" · <#{incident.channel_id}>" if incident.channel_id else ""),
                }
            ],
        },
    ]
    if incident.description:
        blocks.insert(2, _section(escape(incident.description[:MAX_TEXT])))
    if incident.summary:
        blocks.insert(2, _section(f"*Summary:* {escape(incident.summary[:MAX_TEXT])}"))
    if warning:
        blocks.append(_section(f"⚠️ {warning}"))
    if incident.status.is_open:
        blocks.append(
            {"type": "actions", "block_id": "incident_actions", "elements": _card_buttons(incident)}
        )
    return Message(
        f"{incident.key} ({incident.severity.label}, {incident.status.value}): "
        f"{escape(incident.title)}",
        blocks,
    )


def _card_buttons(incident: Incident) -> list[Block]:
    value = str(incident.number)
    buttons: list[Block] = []
    if incident.acknowledged_at is None:
        buttons.append(_button("Acknowledge", ACK_ACTION, value, style="primary"))
    buttons.append(_button("Update", UPDATE_ACTION, value))
    resolve = _button("Resolve", RESOLVE_ACTION, value, style="danger")
    resolve["confirm"] = {
        "title": {"type": "plain_text", "text": f"Resolve {incident.key}?"},
        "text": {"type": "mrkdwn", "text": "It stops being an open incident. You can reopen it."},
        "confirm": {"type": "plain_text", "text": "Resolve"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    buttons.append(resolve)
    return buttons


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": text},
    }
    if style:
        button["style"] = style
    return button


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def announcement(incident: Incident) -> Message:
    where = f" · <#{incident.channel_id}>" if incident.channel_id else ""
    state = f"{_STATUS_ICON[incident.status]} {incident.status.value}"
    line = f"*{_headline(incident, mrkdwn=True)}*\n{state} · lead {_who(incident.lead)}{where}"
    return Message(
        f"{incident.key} ({incident.severity.label}): {escape(incident.title)}",
        [_section(line)],
    )


def event_line(event: TimelineEvent) -> str:
    return f"{_date(event.at, '{time}')} {_who(event.actor)} {_event_body(event)}"


_USER_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")


def mentions_kept(escaped: str) -> str:
    """Escaped text with its people mentions made live again (`<@U…>` only: never
    `<!channel>` or a link)."""
    return _USER_MENTION.sub(r"<@\1>", escaped)


def _event_body(event: TimelineEvent, *, after_actor: bool = True) -> str:
    """What happened, for "<actor> …" (after_actor) or on its own, as a sentence."""
    text = escape(event.text)
    if event.kind in (EventKind.ESCALATION, EventKind.PAGE):  # our own text: people by mention
        text = mentions_kept(text)
    match event.kind:
        case EventKind.UPDATE:
            body = f"posted an update: {text}"
        case EventKind.NOTE:
            body = f"noted: {text}"
        case EventKind.LEAD_CHANGED:
            body = f"made {_who(str(event.data.get('lead', '')))} the lead"
        case _:  # a sentence after the actor: its first word lower-case, but never an id (R2)
            body = text[0].lower() + text[1:] if text[1:2].islower() else text or event.kind.value
    return body if after_actor else body[0].upper() + body[1:]


def reply_message(reply: Reply) -> Message:
    match reply:
        case Done(text=text, incident=incident, event=event, warnings=warnings):
            done = f"{incident.key}: {_event_body(event, after_actor=False)}" if event else text
            lines = [f"✅ {done}", *(f"⚠️ {w}" for w in warnings)]
            return Message("\n".join(lines)[:MAX_TEXT], _chunked_sections(lines[0], lines[1:]))
        case Listing():
            return _listing(reply)
        case Detail(incident=incident, timeline=timeline):
            return _detail(incident, timeline)
        case ShowHelp():
            return help_message()
        case Noted(text=text, warning=warning):
            shown = mentions_kept(escape(text))  # people named by their id
            mark = "⚠️" if warning else "✅"
            return Message(f"{mark} {text}", [_section(f"{mark} {shown}")])
        case AlertListing(firing=firing, silences=silences):
            return _alert_listing(firing, silences)
        case PlaybookPlan(run_id=run_id, text=text, choices=choices):
            return _playbook_plan(run_id, text, choices)
    raise AssertionError(f"no Slack rendering for {reply!r}")


def _alert_listing(firing: Sequence[AlertGroup], silences: Sequence[Silence]) -> Message:
    head = f"*Firing alerts: {len(firing)}*" if firing else "*No alerts firing.* 🎉"
    lines = [f"`A{g.id}` {_alert_line(g)}" for g in firing]
    blocks = _chunked_sections(head, lines)
    if silences:
        blocks += _chunked_sections(
            "*Silences*",
            [
                f"`S{s.id}` {'A' + str(s.group_id) if s.group_id else escape(s.project or '')}"
                f" until {_date(s.ends_at)} by {_who(s.created_by)}"
                + (f" · {escape(s.reason)}" if s.reason else "")
                for s in silences
            ],
        )
    count = len(firing)
    text = f"{count} alert{'s' if count != 1 else ''} firing" if count else "No alerts firing."
    return Message(text, blocks)


def _listing(listing: Listing) -> Message:
    if not listing.incidents:
        text = "No incidents." if listing.include_closed else "No open incidents. 🎉"
        return Message(text, [_section(text)])
    lines = [
        f"*{i.key}* {_SEVERITY_ICON[i.severity]} {i.severity.label} · {i.status.value} · "
        f"{escape(i.title)} · lead {_who(i.lead)}"
        + (f" · <#{i.channel_id}>" if i.channel_id else "")
        for i in listing.incidents
    ]
    title = "Incidents" if listing.include_closed else "Open incidents"
    if listing.more:
        title += f" — the newest {len(lines)}; older ones exist (name them with #N)"
    return Message(title, _chunked_sections(f"*{title}*", lines))


def _detail(incident: Incident, timeline: Sequence[TimelineEvent] | None) -> Message:
    card = incident_card(incident)
    blocks = [b for b in card.blocks if b["type"] != "actions"]
    if timeline is not None:
        shown = timeline[-TIMELINE_LINES:]
        head = "*Timeline* (UTC)" + (
            f" — the last {len(shown)} of {len(timeline)}" if len(shown) < len(timeline) else ""
        )
        blocks += _chunked_sections(head, [event_line(e) for e in shown])
    return Message(card.text, blocks)


def _chunked_sections(head: str, lines: Sequence[str]) -> list[Block]:
    """Lines packed into sections under Slack's 3,000-character section limit."""
    blocks: list[Block] = []
    chunk = head[:2900]
    for line in lines:
        line = line[:2900]
        if len(chunk) + len(line) + 1 > 2900:
            blocks.append(_section(chunk))
            chunk = line
        else:
            chunk = f"{chunk}\n{line}"
    blocks.append(_section(chunk))
    return blocks[:45]


def help_message() -> Message:
    lines = [f"`{usage}`" for usage in USAGE.values()]
    text = "*Lucia* — incident commands. `#N` picks an incident; in its channel it's implied.\n"
    return Message("Lucia help", [_section(text + "\n".join(lines))])


def _severity_option(severity: Severity) -> Block:
    return {"text": {"type": "plain_text", "text": severity.label}, "value": severity.value}


def declare_modal(severity: Severity | None, origin_channel: str | None) -> Block:
    select: Block = {
        "type": "static_select",
        "action_id": "severity_select",
        "options": [_severity_option(s) for s in Severity],
    }
    select["initial_option"] = _severity_option(severity or Severity.SEV3)
    return {
        "type": "modal",
        "callback_id": DECLARE_CALLBACK,
        "private_metadata": json.dumps({"origin_channel_id": origin_channel}),
        "title": {"type": "plain_text", "text": "Open an incident"},
        "submit": {"type": "plain_text", "text": "Open"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title_block",
                "label": {"type": "plain_text", "text": "What is happening?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "title_input",
                    "max_length": MAX_TITLE,
                },
            },
            {
                "type": "input",
                "block_id": "severity_block",
                "label": {"type": "plain_text", "text": "Severity"},
                "element": select,
            },
            {
                "type": "input",
                "block_id": "description_block",
                "optional": True,
                "label": {"type": "plain_text", "text": "Description"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "description_input",
                    "multiline": True,
                    "max_length": MAX_TEXT,
                },
            },
            {
                "type": "input",
                "block_id": "responders_block",
                "optional": True,
                "label": {"type": "plain_text", "text": "Responders to invite"},
                "element": {"type": "multi_users_select", "action_id": "responders_select"},
            },
        ],
    }


def update_modal(incident: Incident, origin_channel: str | None) -> Block:
    keep = {
        "text": {"type": "plain_text", "text": f"Keep ({incident.status.value})"},
        "value": "keep",
    }
    options = [keep] + [
        {"text": {"type": "plain_text", "text": s.value}, "value": s.value}
        for s in WORKING_STATUSES
        if s is not incident.status
    ]
    return {
        "type": "modal",
        "callback_id": UPDATE_CALLBACK,
        "private_metadata": json.dumps(
            {"number": incident.number, "origin_channel_id": origin_channel}
        ),
        "title": {"type": "plain_text", "text": f"Update {incident.key}"[:24]},
        "submit": {"type": "plain_text", "text": "Post update"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "status_block",
                "label": {"type": "plain_text", "text": "Status"},
                "element": {
                    "type": "static_select",
                    "action_id": "status_select",
                    "options": options,
                    "initial_option": keep,
                },
            },
            {
                "type": "input",
                "block_id": "text_block",
                "label": {"type": "plain_text", "text": "What's new?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text_input",
                    "multiline": True,
                    "max_length": MAX_TEXT,
                },
            },
        ],
    }


def home_view(listing: Listing) -> Block:
    """The App Home tab: what is open right now."""
    return {"type": "home", "blocks": [*_listing(listing).blocks, help_message().blocks[0]]}


NOTICE_LINES = 15
_LEVEL_ICON = {"fatal": "🟥", "critical": "🟥", "error": "🟧", "warning": "🟨"}


ALERT_OPEN_ACTION = "lucia_alert_open"
ALERT_ACK_ACTION = "lucia_alert_ack"
ALERT_SILENCE_ACTION = "lucia_alert_silence"


def alert_notice(notice: Notice, groups: Sequence[AlertGroup]) -> Message:
    """One Slack message for the alert groups of one project and environment."""
    firing = [g for g in groups if g.status is GroupStatus.FIRING]
    first = groups[0] if groups else None
    where = " · ".join(x for x in (first.project, first.environment) if x) if first else ""
    if firing:
        head = f"🔥 *{len(firing)} alert{'s' if len(firing) != 1 else ''} firing*"
    else:
        head = "✅ *Resolved*"
    head += f" · {escape(where)}" if where else ""
    lines = [_alert_line(g) for g in groups[:NOTICE_LINES]]
    if len(groups) > NOTICE_LINES:
        lines.append(f"…and {len(groups) - NOTICE_LINES} more")
    blocks = _chunked_sections(head, lines)
    if notice.acknowledged_by and notice.acknowledged_at:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": (
                            f"Acknowledged by {_who(notice.acknowledged_by)} "
                            f"at {_date(notice.acknowledged_at, '{time}')}"
                        ),
                    }
                ],
            }
        )
    if firing:
        value = str(notice.id)
        buttons = [_button("Open incident", ALERT_OPEN_ACTION, value, style="danger")]
        if notice.acknowledged_by is None:
            buttons.append(_button("Acknowledge", ALERT_ACK_ACTION, value, style="primary"))
        buttons.append(_button("Silence 1h", ALERT_SILENCE_ACTION, value))
        blocks.append({"type": "actions", "block_id": "alert_actions", "elements": buttons})
    total = sum(g.count for g in groups)
    text = f"{len(firing)} firing" + (f" in {where}" if where else "") + f" ({total:,} events)"
    return Message(text, blocks)


def _alert_line(group: AlertGroup) -> str:
    icon = "✅" if group.status is GroupStatus.RESOLVED else _LEVEL_ICON.get(group.level, "⬜")
    title = escape(group.title[:200])
    title = f"<{group.url}|{title}>" if group.url.startswith("https://") else title
    rule = f" · rule {escape(group.rule)}" if group.rule else ""
    seen = f"first {_date(group.first_seen, '{time}')}, last {_date(group.last_seen, '{time}')}"
    return f"{icon} {title} · {group.level} · ×{group.count:,}{rule} · {seen}"


PAGE_ACK_ACTION = "lucia_page_ack"


RUN_ACTIONS = {
    "confirm": "lucia_run_confirm",
    "cancel": "lucia_run_cancel",
    "approve": "lucia_run_approve",
}
_RUN_BUTTONS = {
    "confirm": ("Confirm", "danger"),
    "cancel": ("Cancel", None),
    "approve": ("Approve", "primary"),
}


def _playbook_plan(run_id: int, text: str, choices: Sequence[str]) -> Message:
    blocks: list[Block] = [_section(mentions_kept(escape(text))[:MAX_TEXT])]
    if choices:
        buttons = [
            _button(_RUN_BUTTONS[c][0], RUN_ACTIONS[c], str(run_id), _RUN_BUTTONS[c][1])
            for c in choices
        ]
        blocks.append({"type": "actions", "block_id": f"run_{run_id}", "elements": buttons})
    return Message(text[:MAX_TEXT], blocks)
