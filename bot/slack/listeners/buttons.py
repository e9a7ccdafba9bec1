"""A button whose value is a row's number (an alert message, a page): ack at once, then
run the command it stands for after the ack."""

from __future__ import annotations

__all__ = ["on_numbered_click"]

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.grammar import Command
from bot.slack.dispatch import SlackDeps, respond_answer, run_command
from bot.vocabulary import Invocation


def on_numbered_click(
    deps: SlackDeps,
    action_id: str,
    command_for: Callable[[int], Command],
    *,
    replace: bool = False,
) -> Callable[..., Awaitable[None]]:
    """`replace`: the answer takes the place of the message clicked (through its
    response_url), instead of coming beside it."""

    async def on_click(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        value = str(body["actions"][0].get("value", ""))
        if not value.isdigit():
            return  # not a button we rendered
        inv = Invocation(actor=body["user"]["id"], channel_id=(body.get("channel") or {}).get("id"))
        deps.background.spawn(
            run_command(
                deps,
                command_for(int(value)),
                inv,
                respond_answer(respond, replace=replace),
                client=client,
            ),
            name=action_id,
        )

    return on_click
