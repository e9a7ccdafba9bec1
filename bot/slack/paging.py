"""Pages through Slack: a DM with an Acknowledge button, and a mention in the incident
channel. Each is a `Notifier`, so its result is recorded like e-mail's and push's; the
messages themselves are `bot/slack/views/page_dm.py`. `SlackProfiles` tells the core the
name on someone's Slack profile, for the places where a mention means nothing.
"""

from __future__ import annotations

__all__ = ["SlackChannelMention", "SlackDirectMessage", "SlackProfiles"]

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot import log_messages as msg
from bot.errors import ChatError, DeliveryFailed
from bot.paging.ports import Contact, PageMessage
from bot.slack.chat import SlackChat
from bot.slack.views.page_dm import page_dm, page_mention

log = logging.getLogger(__name__)


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
            return await self._chat.post_message(contact.slack_user, page_dm(page))
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
        message = page_mention(page, contact.slack_user)
        with contextlib.suppress(ChatError):  # a mention still shows without it
            # A mention notifies only members: bring them into the incident channel.
            await self._chat.invite(page.incident_channel, [contact.slack_user])
        try:
            return await self._chat.post_message(page.incident_channel, message)
        except ChatError as exc:
            raise DeliveryFailed(f"Slack mention: {exc.code}") from exc


class SlackProfiles:
    """`ProfileNames` from `users.info`: the profile's display name, else its real name.

    Names are kept in-process for `keep` seconds; a failed look-up is retried only after
    `retry`, so a Slack outage costs a page at most one `timeout` a minute, never one per
    person named. When Slack can't answer, the core shows the id.
    """

    MAX_KEPT = 5000  # a workspace's people, with room; past it the cache starts over

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        keep: float = 3600.0,
        retry: float = 60.0,
        timeout: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._keep = keep
        self._retry = retry
        self._timeout = timeout
        self._clock = clock
        self._kept: dict[str, tuple[float, str | None]] = {}  # user -> (until, name)

    async def name_of(self, slack_user: str) -> str | None:
        now = self._clock()
        kept = self._kept.get(slack_user)
        if kept is not None and kept[0] > now:
            return kept[1]
        name, keep = await self._ask(slack_user)
        if len(self._kept) >= self.MAX_KEPT:
            self._kept.clear()
        self._kept[slack_user] = (now + keep, name)
        return name

    async def _ask(self, user: str) -> tuple[str | None, float]:
        """The name, and how long that answer holds."""
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.users_info(user=user)
        except SlackApiError as exc:
            code = str(exc.response.get("error", "unknown_error"))
            log.warning(msg.SLACK_PROFILE_UNREADABLE, extra={"user": user, "error": code})
            # Nobody by that id is an answer; anything else may be better in a minute.
            return None, self._keep if code == "user_not_found" else self._retry
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            error = f"unreachable: {type(exc).__name__}"
            log.warning(msg.SLACK_PROFILE_UNREADABLE, extra={"user": user, "error": error})
            return None, self._retry
        person = _mapping(response.get("user"))
        profile = _mapping(person.get("profile"))
        names = (profile.get("display_name"), profile.get("real_name"), person.get("real_name"))
        for name in names:
            if isinstance(name, str) and name.strip():
                return " ".join(name.split()), self._keep
        return None, self._keep


def _mapping(value: object) -> dict[str, object]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}
