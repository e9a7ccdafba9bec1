"""Timeline capture: a 📌 reaction on a message of an incident channel, or pinning it, keeps
the message in the incident's timeline at its own time, with its author; taking the 📌 or
the pin away marks it, and history stays.

Slack's redeliveries of an event are dropped by event_id before they get here (see
bot/slack/app.py), and the service keeps a message once however often it is pinned.
"""

from __future__ import annotations

__all__ = ["PUSHPIN", "register"]

import asyncio
import logging
import weakref
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import log_messages as msg
from bot.errors import ChatError
from bot.slack.chat import SlackChat
from bot.slack.dispatch import SlackDeps
from bot.types import UserId

log = logging.getLogger(__name__)

PUSHPIN = "pushpin"  # 📌, the reaction's name in Slack's events

MessageRef = tuple[str, str]  # channel id, message ts


def register(app: AsyncApp, deps: SlackDeps) -> None:
    # A 📌 added then taken away at once: the two run one after the other, in that order.
    locks: weakref.WeakValueDictionary[MessageRef, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock_for(ref: MessageRef) -> asyncio.Lock:
        lock = locks.get(ref)
        if lock is None:
            lock = locks[ref] = asyncio.Lock()
        return lock

    async def keep(
        client: AsyncWebClient, ref: MessageRef, by: UserId, carried: dict[str, Any] | None
    ) -> None:
        channel, ts = ref
        lock = lock_for(ref)
        async with lock:
            message = carried if carried and _readable(carried, ts) else None
            if message is None:
                try:
                    message = await SlackChat(client).find_message(channel, ts)
                except ChatError as exc:  # channel_not_found, not_in_channel, ...
                    log.warning(
                        msg.CHAT_CALL_FAILED,
                        extra={"what": "read a pinned message", "error": exc.code},
                    )
                    return
            if message is None:  # deleted before we could read it
                log.warning(
                    msg.CHAT_CALL_FAILED,
                    extra={"what": "read a pinned message", "error": "message_not_found"},
                )
                return
            author = str(message.get("user") or message.get("bot_id") or "")
            text = str(message.get("text") or "")
            await deps.incidents.capture_message(channel, ts, author, text, by)

    async def unkeep(ref: MessageRef, by: UserId) -> None:
        lock = lock_for(ref)
        async with lock:
            await deps.incidents.uncapture_message(*ref, by)

    @app.event("reaction_added")
    async def reaction_added(event: dict[str, Any], client: AsyncWebClient) -> None:
        if ref := _pushpinned(event):
            deps.background.spawn(keep(client, ref, event["user"], None), name="pin")

    @app.event("reaction_removed")
    async def reaction_removed(event: dict[str, Any]) -> None:
        if ref := _pushpinned(event):
            deps.background.spawn(unkeep(ref, event["user"]), name="unpin")

    @app.event("pin_added")
    async def pin_added(event: dict[str, Any], client: AsyncWebClient) -> None:
        if ref := _pinned(event):
            carried = event["item"].get("message")
            message = carried if isinstance(carried, dict) else None
            deps.background.spawn(keep(client, ref, event["user"], message), name="pin")

    @app.event("pin_removed")
    async def pin_removed(event: dict[str, Any]) -> None:
        if ref := _pinned(event):
            deps.background.spawn(unkeep(ref, event["user"]), name="unpin")


def _readable(message: dict[str, Any], ts: str) -> bool:
    """A message carried in an event that tells what we keep: its ts, text and author."""
    author = message.get("user") or message.get("bot_id")
    return message.get("ts") == ts and "text" in message and bool(author)


def _pushpinned(event: dict[str, Any]) -> MessageRef | None:
    """reaction_added/removed: `item` is {type, channel, ts} for a message."""
    item = event.get("item") or {}
    if event.get("reaction") != PUSHPIN or item.get("type") != "message":
        return None
    channel, ts = item.get("channel"), item.get("ts")
    return (str(channel), str(ts)) if channel and ts and event.get("user") else None


def _pinned(event: dict[str, Any]) -> MessageRef | None:
    """pin_added/removed: `channel_id`, and `item` with the pinned message in `message`."""
    item = event.get("item") or {}
    if item.get("type") != "message":
        return None
    carried = item.get("message")
    message: dict[str, Any] = carried if isinstance(carried, dict) else {}
    channel = event.get("channel_id") or item.get("channel")
    ts = message.get("ts") or item.get("ts")
    return (str(channel), str(ts)) if channel and ts and event.get("user") else None
