"""Events API: an @-mention runs the same commands as `/lucia` and answers in thread."""

from __future__ import annotations

__all__ = ["register"]

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import CommandError
from bot.incidents.commands import parse
from bot.incidents.service import Invocation
from bot.slack.blocks import Message
from bot.slack.dispatch import SlackDeps, run_command, thread_answer

_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>\s*")


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.event("app_mention")
    async def mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        channel = event["channel"]
        answer = thread_answer(client, channel, event.get("thread_ts") or event["ts"])
        text = _LEADING_MENTION.sub("", event.get("text", ""), count=1)
        try:
            command = parse(text)
        except CommandError as exc:
            await answer(Message(f"⚠️ {exc}"))
            return
        inv = Invocation(actor=event["user"], channel_id=channel)
        deps.background.spawn(
            run_command(deps, command, inv, answer, client=client), name="mention"
        )
