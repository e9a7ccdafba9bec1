"""A page as Slack shows it: in the person's DM with an Acknowledge button, or as a mention
in the incident channel.

Here a page's people are Slack mentions (`<@U003>`, never escaped), its channels and links
stay as the sender typed them, and everything else is escaped once.
"""

from __future__ import annotations

__all__ = ["page_dm", "page_mention", "slack_words"]

import re

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, MarkdownTextObject, SectionBlock

from bot.command_text import MAX_TEXT
from bot.paging.ports import PageMessage
from bot.paging.words import Broadcast, ChannelRef, Code, Link, Person, Words
from bot.slack.views.ids import PAGE_ACK_ACTION
from bot.slack.views.message import Message
from bot.slack.views.mrkdwn import escape
from bot.slack_links import channel_link

# A cut must not leave half an entity (`&am`) or half a mention (`<@U0`) behind.
_BROKEN_TAIL = re.compile(r"(?:&[a-z]*|<[^>]*)$")


def slack_words(words: Words) -> str:
    """Words as Slack mrkdwn: people as live mentions, text escaped (no `@channel`, no
    forged link), channels and links as typed."""
    parts = []
    for segment in words:
        match segment:
            case str():
                parts.append(escape(segment))
            case Person(slack_user=str() as user):
                parts.append(f"<@{user}>")
            case Person(name=name):
                parts.append(escape(name))
            case ChannelRef(channel_id=channel, name=name):
                parts.append(f"<#{channel}|{escape(name)}>" if name else f"<#{channel}>")
            case Link(url=url, label=label):
                parts.append(f"<{url}|{escape(label)}>" if label else f"<{url}>")
            case Broadcast(label=label):
                parts.append(escape(f"@{label}"))  # shown as typed, pinging nobody
            case Code(text=code):
                parts.append(f"`{escape(code)}`")
    return "".join(parts)


def page_dm(page: PageMessage) -> Message:
    """A page in the person's DM, with the Acknowledge button."""
    title = slack_words(page.title)
    lead = "🧪" if page.test else "🚨" if page.urgent else "📟"
    blocks = [SectionBlock(text=MarkdownTextObject(text=_fit(f"{lead} *{title}*")))]
    body = "\n".join(slack_words(line) for line in page.lines)
    if body:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_fit(body))))
    if page.incident_channel:
        link = f"<{channel_link(page.incident_channel)}|Open the incident channel>"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=link)))
    button = ButtonElement(
        text="Acknowledge", action_id=PAGE_ACK_ACTION, value=str(page.page_id), style="primary"
    )
    actions = ActionsBlock(block_id="page_actions", elements=[button])
    return Message(f"{lead} {title}", [*blocks, actions])


def page_mention(page: PageMessage, user: str) -> Message:
    """A page as a mention of `user` in the incident channel."""
    text = _fit(f"<@{user}> you are paged: {slack_words(page.title)}")
    return Message(text, [SectionBlock(text=MarkdownTextObject(text=text))])


def _fit(mrkdwn: str, limit: int = MAX_TEXT) -> str:
    if len(mrkdwn) <= limit:
        return mrkdwn
    return _BROKEN_TAIL.sub("", mrkdwn[: limit - 1]) + "…"
