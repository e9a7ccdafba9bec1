"""The public status page in Slack: `/lucia status` (the page as it reads now: the roll-up,
each component, the incidents still open with their latest update, the maintenance to
come) and a draft's preview with Publish and Cancel (nothing is public before Publish).

Everything shown here that people typed, or that lucia.yaml names, is shown as it will
read on the public page (`literal`): Slack formats none of it."""

from __future__ import annotations

__all__ = ["STATE_ICON", "status_now", "status_preview"]

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ContextBlock, MarkdownTextObject

from bot.slack.views.ids import STATUS_CANCEL_ACTION, STATUS_PUBLISH_ACTION
from bot.slack.views.layout import button, packed_sections, section
from bot.slack.views.message import Message
from bot.slack.views.mrkdwn import date, literal
from bot.status.model import ComponentState, Maintenance, MaintenanceStatus, PublicIncident, worst
from bot.status.page import ComponentView, PageView
from bot.status.replies import StatusPreview

STATE_ICON = {
    ComponentState.OPERATIONAL: "🟢",
    ComponentState.UNDER_MAINTENANCE: "🔧",
    ComponentState.DEGRADED_PERFORMANCE: "🟡",
    ComponentState.PARTIAL_OUTAGE: "🟠",
    ComponentState.MAJOR_OUTAGE: "🔴",
}
_UPDATE_SHOWN = 500  # characters of an update in the roll-up: the page has the rest
_PIECE = 2900  # under Slack's 3,000-character section limit
_CONTENT_BLOCKS = 47  # under Slack's 50 blocks, with the buttons and the commands after


def status_now(page: PageView) -> Message:
    head = f"{STATE_ICON[page.worst]} *{literal(page.name)} status: {page.description}*"
    if page.updated_at is not None:
        head += f"\nLast updated {date(page.updated_at)}"
    lines: list[str] = []
    if not page.components:
        lines.append(
            "_The page has no components yet: list them under `status_page:` in lucia.yaml._"
        )
    for group, components in page.groups():
        if group:
            lines.append(f"\n*{literal(group)}*")
        lines += [_component_line(c) for c in components]
    if page.active:
        lines.append(f"\n*Active incidents ({len(page.active)})*")
        for incident in page.active:
            lines += _incident_lines(incident, page)
    else:
        lines.append("\n*No active incidents.*")
    if page.maintenances:
        lines.append("\n*Scheduled maintenance*")
        for maintenance in page.maintenances:
            lines += _maintenance_lines(maintenance, page)
    text = f"{page.name} status: {page.description}"
    return Message(text, packed_sections(head, lines))


def _component_line(component: ComponentView) -> str:
    line = (
        f"{STATE_ICON[component.state]} {literal(component.config.name)} — {component.state.words}"
    )
    percent = component.uptime.percent
    if percent is not None:
        line += f" · {percent:.2f} % uptime over 90 days"
    return line


def _incident_lines(incident: PublicIncident, page: PageView) -> list[str]:
    icon = STATE_ICON[worst(incident.components.values())]
    lines = [
        f"{icon} *{literal(incident.name)}* — {incident.status.value.capitalize()}"
        f" · since {date(incident.created_at)}"
    ]
    if incident.components:
        affected = page.named(incident.components)
        lines.append("Affects " + "; ".join(f"{literal(n)}: {s.words}" for n, s in affected))
    if incident.updates:
        latest = incident.updates[0]  # newest first
        body = " ".join(latest.body.split())
        if len(body) > _UPDATE_SHOWN:
            body = body[: _UPDATE_SHOWN - 1] + "…"
        lines.append(
            f"> _{latest.status.value.capitalize()}_ {date(latest.created_at)}: {literal(body)}"
        )
    return lines


def _maintenance_lines(maintenance: Maintenance, page: PageView) -> list[str]:
    state = maintenance.status(page.now)
    when = "in progress, until" if state is MaintenanceStatus.IN_PROGRESS else "from"
    span = (
        f"{date(maintenance.ends_at)}"
        if state is MaintenanceStatus.IN_PROGRESS
        else f"{date(maintenance.starts_at)} to {date(maintenance.ends_at)}"
    )
    affected = ", ".join(literal(page.name_of(c)) for c in maintenance.components)
    lines = [f"🔧 *{literal(maintenance.name)}* — {when} {span} · {affected}"]
    if maintenance.body != maintenance.name:
        body = " ".join(maintenance.body.split())
        if len(body) > _UPDATE_SHOWN:
            body = body[: _UPDATE_SHOWN - 1] + "…"
        lines.append(f"> {literal(body)}")
    return lines


def status_preview(preview: StatusPreview) -> Message:
    """The draft as it would go out: its title, its public text (in full) and each
    component's state as it will read, with Publish and Cancel (their value: the draft's
    id)."""
    draft = f"D{preview.draft_id}"
    head = f"👀 *Preview — nothing is public yet* · draft `{draft}`\n*{literal(preview.title)}*"
    public, *rest = preview.lines or ("",)
    blocks: list[Block] = [section(head)]
    blocks += [section(piece) for piece in _pieces(literal(public))]
    if rest:
        bullets = [f"• {literal(line)}" for line in rest]
        blocks += packed_sections(bullets[0], bullets[1:])
    blocks = blocks[:_CONTENT_BLOCKS]
    blocks.append(
        ActionsBlock(
            block_id=f"status_draft_{preview.draft_id}",
            elements=[
                button("Publish", STATUS_PUBLISH_ACTION, str(preview.draft_id), "primary"),
                button("Cancel", STATUS_CANCEL_ACTION, str(preview.draft_id)),
            ],
        )
    )
    typed = f"Or type `/lucia status confirm {draft}` or `/lucia status cancel {draft}`."
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=typed)]))
    return Message(f"Preview — nothing is public yet: {preview.title}", blocks)


def _pieces(escaped: str) -> Sequence[str]:
    """Escaped text in pieces that fit a section, never cut inside an `&amp;`."""
    pieces: list[str] = []
    while len(escaped) > _PIECE:
        cut = _PIECE
        amp = escaped.rfind("&", cut - 5, cut)
        if amp != -1 and ";" not in escaped[amp:cut]:
            cut = amp
        pieces.append(escaped[:cut])
        escaped = escaped[cut:]
    return [*pieces, escaped] if escaped.strip() else pieces or ["_(no text)_"]
