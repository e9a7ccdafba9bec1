"""Events API: an @-mention runs the same commands as `/lucia` and answers in thread;
the App Home tab lists the open incidents."""

from __future__ import annotations

__all__ = ["register"]

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import CommandError
from bot.grammar import parse
from bot.incidents.commands import ListIncidents
from bot.incidents.replies import Listing
from bot.slack.dispatch import SlackDeps, ephemeral_answer, run_command, thread_answer
from bot.slack.views.home import home_view
from bot.slack.views.message import Message
from bot.vocabulary import Invocation

_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>\s*")


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def publish_home(user: str, client: AsyncWebClient) -> None:
        listing = await deps.incidents.run(
            ListIncidents(include_closed=False), Invocation(actor=user)
        )
        assert isinstance(listing, Listing)
        await client.views_publish(user_id=user, view=home_view(listing).to_dict())

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") == "home":
            deps.background.spawn(publish_home(event["user"], client), name="home")

    async def answer_mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        channel, user = event["channel"], event["user"]
        thread = event.get("thread_ts") or event["ts"]
        try:
            command = parse(_LEADING_MENTION.sub("", event.get("text", ""), count=1))
        except CommandError as exc:  # echoes what was typed: only its author sees it
            await ephemeral_answer(client, channel, user, thread)(Message(f"⚠️ {exc}"))
            return
        inv = Invocation(actor=user, channel_id=channel)
        await run_command(deps, command, inv, thread_answer(client, channel, thread), client=client)

    @app.event("app_mention")
    async def mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        # Bolt answers Slack when this returns; the work is held for shutdown.
        deps.background.spawn(answer_mention(event, client), name="mention")
