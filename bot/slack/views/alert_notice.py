"""The notice for the alert groups of one project and environment, in the alerts channel."""

from __future__ import annotations

__all__ = ["alert_line", "alert_notice"]

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ContextBlock, MarkdownTextObject

from bot.alerts.model import AlertGroup, GroupStatus, Notice
from bot.slack.views.ids import ALERT_ACK_ACTION, ALERT_OPEN_ACTION, ALERT_SILENCE_ACTION
from bot.slack.views.layout import button, packed_sections
from bot.slack.views.message import Message
from bot.slack.views.mrkdwn import date, escape, who

_NOTICE_LINES = 15
_LEVEL_ICON = {"fatal": "🟥", "critical": "🟥", "error": "🟧", "warning": "🟨"}


def alert_notice(notice: Notice, groups: Sequence[AlertGroup]) -> Message:
    """One Slack message for the alert groups of one project and environment."""
    firing = [g for g in groups if g.status is GroupStatus.FIRING]
    first = groups[0] if groups else None
    where = " · ".join(x for x in (first.project, first.environment) if x) if first else ""
    synthetic = any(g.synthetic for g in groups)
    if synthetic:  # the launch gate's trace: say so before anything else
        head = "🧪 *Synthetic alert trace* (`/lucia gate trace`): pages nobody, opens no incident"
        head += "" if firing else " · ✅ *Resolved*"
    elif firing:
        head = f"🔥 *{len(firing)} alert{'s' if len(firing) != 1 else ''} firing*"
    else:
        head = "✅ *Resolved*"
    head += f" · {escape(where)}" if where else ""
    lines = [alert_line(g) for g in groups[:_NOTICE_LINES]]
    if len(groups) > _NOTICE_LINES:
        lines.append(f"…and {len(groups) - _NOTICE_LINES} more")
    blocks: list[Block] = [*packed_sections(head, lines)]
    if notice.acknowledged_by and notice.acknowledged_at:
        acknowledged = (
            f"Acknowledged by {who(notice.acknowledged_by)} "
            f"at {date(notice.acknowledged_at, '{time}')}"
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=acknowledged)]))
    if firing and not synthetic:
        value = str(notice.id)
        buttons = [button("Open incident", ALERT_OPEN_ACTION, value, style="danger")]
        if notice.acknowledged_by is None:
            buttons.append(button("Acknowledge", ALERT_ACK_ACTION, value, style="primary"))
        buttons.append(button("Silence 1h", ALERT_SILENCE_ACTION, value))
        blocks.append(ActionsBlock(block_id="alert_actions", elements=buttons))
    total = sum(g.count for g in groups)
    text = f"{len(firing)} firing" + (f" in {where}" if where else "") + f" ({total:,} events)"
    if synthetic:
        text = "Synthetic alert trace: " + ("firing" if firing else "resolved") + ", pages nobody"
    return Message(text, blocks)


def alert_line(group: AlertGroup) -> str:
    icon = "✅" if group.status is GroupStatus.RESOLVED else _LEVEL_ICON.get(group.level, "⬜")
    title = escape(group.title[:200])
    title = f"<{group.url}|{title}>" if group.url.startswith("https://") else title
    rule = f" · rule {escape(group.rule)}" if group.rule else ""
    seen = f"first {date(group.first_seen, '{time}')}, last {date(group.last_seen, '{time}')}"
    return f"{icon} {title} · {group.level} · ×{group.count:,}{rule} · {seen}"
