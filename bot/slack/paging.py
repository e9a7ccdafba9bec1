"""Pages through Slack: a DM with an Acknowledge button, and a mention in the incident
channel. Each is a `Notifier`, so its result is recorded like e-mail's and push's."""

from __future__ import annotations

__all__ = ["SlackChannelMention", "SlackDirectMessage"]

import contextlib

from bot.errors import ChatError, DeliveryFailed
from bot.paging.ports import Contact, PageMessage
from bot.slack.blocks import page_message
from bot.slack.chat import SlackChat


class SlackDirectMessage:
    channel = "slack_dm"

    def __init__(self, chat: SlackChat) -> None:
        self._chat = chat

    def reaches(self, contact: Contact, page: PageMessage) -> bool:
        return contact.slack_user is not None

    async def send(self, contact: Contact, page: PageMessage) -> str:
        assert contact.slack_user is not None
        try:
            # A user id as the channel: Slack posts in the app's DM with that person.
            return await self._chat.post_message(contact.slack_user, page_message(page))
        except ChatError as exc:
            raise DeliveryFailed(f"Slack DM: {exc.code}") from exc


class SlackChannelMention:
    channel = "slack_mention"

    def __init__(self, chat: SlackChat) -> None:
        self._chat = chat

    def reaches(self, contact: Contact, page: PageMessage) -> bool:
        return contact.slack_user is not None and page.incident_channel is not None

    async def send(self, contact: Contact, page: PageMessage) -> str:
        assert page.incident_channel is not None
        assert contact.slack_user is not None
        message = page_message(page, mention=contact.slack_user)
        with contextlib.suppress(ChatError):  # a mention still shows without it
            # A mention notifies only members: bring them into the incident channel.
            await self._chat.invite(page.incident_channel, [contact.slack_user])
        try:
            return await self._chat.post_message(page.incident_channel, message)
        except ChatError as exc:
            raise DeliveryFailed(f"Slack mention: {exc.code}") from exc
