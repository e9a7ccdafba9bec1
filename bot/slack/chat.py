"""`IncidentChat` on Slack's Web API. Slack errors become `ChatError` with Slack's code."""

from __future__ import annotations

__all__ = ["SlackChat"]

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError, SlackObjectFormationError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.alerts.model import AlertGroup, Notice
from bot.errors import ChannelNameTaken, ChatError
from bot.gate.replies import GateReport
from bot.incidents.model import Incident, TimelineEvent
from bot.incidents.ports import Posted
from bot.slack.views.alert_notice import alert_notice
from bot.slack.views.gate import gate_report
from bot.slack.views.incident_card import announcement, incident_card
from bot.slack.views.message import Message
from bot.slack.views.timeline import event_line
from bot.types import UserId

INVITE_BATCH = 30  # conversations.invite's documented maximum is unclear; 30 is safe
UPLOAD_STEP = "upload_url"  # ChatError.method of the byte upload between the two files.* calls


class SlackChat:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def create_channel(self, name: str) -> str:
        response = await _call(
            "conversations.create", self._client.conversations_create, name=name, is_private=False
        )
        return str(response["channel"]["id"])

    async def invite(self, channel_id: str, users: Sequence[UserId]) -> None:
        for start in range(0, len(users), INVITE_BATCH):
            batch = ",".join(users[start : start + INVITE_BATCH])
            try:
                await _call(
                    "conversations.invite",
                    self._client.conversations_invite,
                    channel=channel_id,
                    users=batch,
                    force=True,
                )
            except ChatError as exc:
                if exc.code not in ("already_in_channel", "cant_invite_self"):
                    raise

    async def set_topic(self, channel_id: str, topic: str) -> None:
        await _call(
            "conversations.setTopic",
            self._client.conversations_setTopic,
            channel=channel_id,
            topic=topic,
        )

    async def post_card(self, channel_id: str, incident: Incident, warning: str | None) -> str:
        return await self._post(channel_id, incident_card(incident, warning))

    async def update_card(
        self, channel_id: str, message_id: str, incident: Incident, warning: str | None
    ) -> None:
        await self._update(channel_id, message_id, incident_card(incident, warning))

    async def post_announcement(self, channel: str, incident: Incident) -> Posted:
        response = await self._send(channel, announcement(incident))
        return Posted(str(response["channel"]), str(response["ts"]))

    async def update_announcement(
        self, channel_id: str, message_id: str, incident: Incident
    ) -> None:
        await self._update(channel_id, message_id, announcement(incident))

    async def post_event(self, channel_id: str, incident: Incident, event: TimelineEvent) -> None:
        await self._post(channel_id, Message(event_line(event)))

    async def post_notice(
        self, channel: str, notice: Notice, groups: Sequence[AlertGroup]
    ) -> Posted:
        response = await self._send(channel, alert_notice(notice, groups))
        return Posted(str(response["channel"]), str(response["ts"]))

    async def update_notice(
        self, channel_id: str, message_ts: str, notice: Notice, groups: Sequence[AlertGroup]
    ) -> None:
        await self._update(channel_id, message_ts, alert_notice(notice, groups))

    async def post_gate(self, channel: str, report: GateReport) -> None:
        """A changed verdict, announced with its Re-check button."""
        await self._send(channel, gate_report(report))

    async def user_exists(self, user: UserId) -> bool:
        try:
            response = await _call("users.info", self._client.users_info, user=user)
        except ChatError as exc:
            if exc.code == "user_not_found":
                return False
            raise
        return not response["user"].get("deleted", False)

    async def post_message(self, channel: str, message: Message) -> str:
        """Any message; its ts. (Pages use it: see bot/slack/paging.py.)"""
        return await self._post(channel, message)

    async def find_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """The message posted at `ts` (a thread reply too); None when it is gone.

        conversations.history holds a channel's top-level messages only, so a reply is looked
        up in its thread with conversations.replies."""
        history = await _call(
            "conversations.history",
            self._client.conversations_history,
            channel=channel_id,
            latest=ts,
            inclusive=True,
            limit=1,
        )
        if found := _with_ts(history, ts):
            return found
        try:
            replies = await _call(
                "conversations.replies",
                self._client.conversations_replies,
                channel=channel_id,
                ts=ts,
                oldest=ts,  # replies come oldest first: the one asked for leads the page
                inclusive=True,
            )
        except ChatError as exc:
            if exc.code == "thread_not_found":
                return None
            raise
        return _with_ts(replies, ts)

    async def upload_file(
        self, channel_id: str, filename: str, content: bytes, title: str, comment: str
    ) -> str:
        """Share a file in a channel with Slack's upload flow; its file id.

        files.getUploadURLExternal, then the bytes POSTed to the URL it gives, then
        files.completeUploadExternal shares the file with `comment` as its message."""
        ticket = await _call(
            "files.getUploadURLExternal",
            self._client.files_getUploadURLExternal,
            filename=filename,
            length=len(content),
        )
        file_id = str(ticket["file_id"])
        await self._send_bytes(str(ticket["upload_url"]), content)
        await _call(
            "files.completeUploadExternal",
            self._client.files_completeUploadExternal,
            files=[{"id": file_id, "title": title}],
            channel_id=channel_id,
            initial_comment=comment,
        )
        return file_id

    async def _send_bytes(self, upload_url: str, content: bytes) -> None:
        """The upload URL takes the raw bytes in a plain POST and answers 200."""
        timeout = aiohttp.ClientTimeout(total=self._client.timeout)
        headers = {"Content-Type": "application/octet-stream"}
        try:
            async with contextlib.AsyncExitStack() as stack:
                session = self._client.session
                if session is None or session.closed:  # the client makes one per call too
                    session = await stack.enter_async_context(
                        aiohttp.ClientSession(trust_env=self._client.trust_env_in_session)
                    )
                async with session.post(
                    upload_url,
                    data=content,
                    headers=headers,
                    timeout=timeout,
                    proxy=self._client.proxy,
                    ssl=True if self._client.ssl is None else self._client.ssl,
                ) as response:
                    if response.status != 200:
                        raise ChatError(UPLOAD_STEP, f"http_{response.status}")
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ChatError(UPLOAD_STEP, f"unreachable: {type(exc).__name__}") from exc

    async def _post(self, channel_id: str, message: Message) -> str:
        return str((await self._send(channel_id, message))["ts"])

    async def _send(self, channel: str, message: Message) -> AsyncSlackResponse:
        return await _call(
            "chat.postMessage",
            self._client.chat_postMessage,
            channel=channel,
            text=message.text,
            blocks=_blocks("chat.postMessage", message),
            unfurl_links=False,
        )

    async def _update(self, channel_id: str, ts: str, message: Message) -> None:
        await _call(
            "chat.update",
            self._client.chat_update,
            channel=channel_id,
            ts=ts,
            text=message.text,
            blocks=_blocks("chat.update", message),
        )


def _blocks(method: str, message: Message) -> list[dict[str, Any]] | None:
    """The message's blocks for `method`; blocks past Slack's limits are refused here, with
    the code Slack would answer."""
    try:
        return message.blocks_json()
    except SlackObjectFormationError as exc:
        raise ChatError(method, "invalid_blocks") from exc


def _with_ts(response: AsyncSlackResponse, ts: str) -> dict[str, Any] | None:
    messages = response.get("messages") or []
    return next((dict(m) for m in messages if m.get("ts") == ts), None)


async def _call(
    method: str, call: Callable[..., Awaitable[AsyncSlackResponse]], **kwargs: Any
) -> AsyncSlackResponse:
    try:
        return await call(**kwargs)
    except SlackApiError as exc:
        code = str(exc.response.get("error", "unknown_error"))
        retry_after = None
        if exc.response.status_code == 429:
            code = "ratelimited"
            headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
            retry_after = float(headers.get("retry-after", 1))
        error_type = ChannelNameTaken if code == "name_taken" else ChatError
        raise error_type(method, code, retry_after=retry_after) from exc
    except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ChatError(method, f"unreachable: {type(exc).__name__}") from exc
