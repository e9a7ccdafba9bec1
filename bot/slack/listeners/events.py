"""Events API: an @-mention runs the same commands as `/lucia` and answers in thread;
the App Home tab lists the open incidents."""

from __future__ import annotations

__all__ = ["register"]

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import CommandError
from bot.incidents.commands import ListIncidents, parse
from bot.incidents.replies import Listing
from bot.incidents.service import Invocation
from bot.slack.blocks import Message, home_view
from bot.slack.dispatch import SlackDeps, run_command, thread_answer

_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>\s*")


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def publish_home(user: str, client: AsyncWebClient) -> None:
        listing = await deps.incidents.run(
            ListIncidents(include_closed=False), Invocation(actor=user)
        )
        assert isinstance(listing, Listing)
        await client.views_publish(user_id=user, view=home_view(listing))

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") == "home":
            deps.background.spawn(publish_home(event["user"], client), name="home")

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
