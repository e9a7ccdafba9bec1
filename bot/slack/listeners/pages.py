"""The Acknowledge button of a page's DM."""

from __future__ import annotations

__all__ = ["register"]

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.commands import AcknowledgePage
from bot.incidents.service import Invocation
from bot.slack.blocks import PAGE_ACK_ACTION
from bot.slack.dispatch import SlackDeps, respond_answer, run_command


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(PAGE_ACK_ACTION)
    async def on_page_ack(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        value = str(body["actions"][0].get("value", ""))
        if not value.isdigit():
            return  # not a button we rendered
        inv = Invocation(actor=body["user"]["id"], channel_id=(body.get("channel") or {}).get("id"))
        deps.background.spawn(
            run_command(
                deps, AcknowledgePage(int(value)), inv, respond_answer(respond), client=client
            ),
            name=PAGE_ACK_ACTION,
        )
