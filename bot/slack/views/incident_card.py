"""An incident's card in its channel, and its announcement in the announcements channel."""

from __future__ import annotations

__all__ = ["SEVERITY_ICON", "announcement", "card_facts", "card_text", "incident_card"]

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.command_text import MAX_TEXT
from bot.incidents.model import Incident, Status
from bot.slack.views.ids import ACK_ACTION, RESOLVE_ACTION, UPDATE_ACTION
from bot.slack.views.layout import button, plain, section
from bot.slack.views.message import Message
from bot.slack.views.mrkdwn import date, escape, who
from bot.vocabulary import Severity

_HEADER_TEXT = 150  # Slack's limit for a header block's text

SEVERITY_ICON = {
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


def _headline(incident: Incident, *, mrkdwn: bool) -> str:
    title = escape(incident.title) if mrkdwn else incident.title
    return (
        f"{SEVERITY_ICON[incident.severity]} {incident.key} · {incident.severity.label} · {title}"
    )


def incident_card(incident: Incident, warning: str | None = None) -> Message:
    blocks = card_facts(incident)
    if warning:
        blocks.append(section(f"⚠️ {warning}"))
    if incident.status.is_open:
        blocks.append(ActionsBlock(block_id="incident_actions", elements=_card_buttons(incident)))
    return Message(card_text(incident), blocks)


def card_text(incident: Incident) -> str:
    """The card's notification text."""
    return (
        f"{incident.key} ({incident.severity.label}, {incident.status.value}): "
        f"{escape(incident.title)}"
    )


def card_facts(incident: Incident) -> list[Block]:
    """The card without its warning and buttons: what `incident show` shows too."""
    state = f"{_STATUS_ICON[incident.status]} {incident.status.value}"
    ack = (
        f"{who(incident.acknowledged_by)} at {date(incident.acknowledged_at, '{time}')}"
        if incident.acknowledged_at
        else "_not yet_"
    )
    opened = f"Opened {date(incident.created_at, '{ago}')} by {who(incident.opened_by)}" + (
        f" · <#{incident.channel_id}>" if incident.channel_id else ""
    )
    blocks: list[Block] = [
        HeaderBlock(text=plain(_headline(incident, mrkdwn=False)[:_HEADER_TEXT])),
        SectionBlock(
            block_id="facts",
            fields=[
                MarkdownTextObject(text=f"*Severity*\n{incident.severity.label}"),
                MarkdownTextObject(text=f"*Status*\n{state}"),
                MarkdownTextObject(text=f"*Lead*\n{who(incident.lead)}"),
                MarkdownTextObject(text=f"*Acknowledged*\n{ack}"),
            ],
        ),
        ContextBlock(elements=[MarkdownTextObject(text=opened)]),
    ]
    if incident.description:
        blocks.insert(2, section(escape(incident.description[:MAX_TEXT])))
    if incident.summary:
        blocks.insert(2, section(f"*Summary:* {escape(incident.summary[:MAX_TEXT])}"))
    return blocks


def _card_buttons(incident: Incident) -> list[ButtonElement]:
    value = str(incident.number)
    buttons: list[ButtonElement] = []
    if incident.acknowledged_at is None:
        buttons.append(button("Acknowledge", ACK_ACTION, value, style="primary"))
    buttons.append(button("Update", UPDATE_ACTION, value))
    confirm = ConfirmObject(
        title=plain(f"Resolve {incident.key}?"),
        text=MarkdownTextObject(text="It stops being an open incident. You can reopen it."),
        confirm=plain("Resolve"),
        deny=plain("Cancel"),
    )
    buttons.append(button("Resolve", RESOLVE_ACTION, value, style="danger", confirm=confirm))
    return buttons


def announcement(incident: Incident) -> Message:
    where = f" · <#{incident.channel_id}>" if incident.channel_id else ""
    state = f"{_STATUS_ICON[incident.status]} {incident.status.value}"
    line = f"*{_headline(incident, mrkdwn=True)}*\n{state} · lead {who(incident.lead)}{where}"
    return Message(
        f"{incident.key} ({incident.severity.label}): {escape(incident.title)}",
        [section(line)],
    )
