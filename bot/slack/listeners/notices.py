"""The alert message's buttons: Open incident, Acknowledge, Silence 1h."""

from __future__ import annotations

__all__ = ["register"]

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.commands import (
    AcknowledgeNotice,
    OpenIncidentFromNotice,
    SilenceNotice,
)
from bot.incidents.service import Invocation
from bot.slack.blocks import ALERT_ACK_ACTION, ALERT_OPEN_ACTION, ALERT_SILENCE_ACTION
from bot.slack.dispatch import SlackDeps, respond_answer, run_command

SILENCE_BUTTON = timedelta(hours=1)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    actions: dict[
        str, Callable[[int], AcknowledgeNotice | SilenceNotice | OpenIncidentFromNotice]
    ] = {
        ALERT_OPEN_ACTION: OpenIncidentFromNotice,
        ALERT_ACK_ACTION: AcknowledgeNotice,
        ALERT_SILENCE_ACTION: lambda notice: SilenceNotice(notice, SILENCE_BUTTON),
    }
    for action_id, command_for in actions.items():
        app.action(action_id)(_on_click(deps, action_id, command_for))


def _on_click(
    deps: SlackDeps,
    action_id: str,
    command_for: Callable[[int], AcknowledgeNotice | SilenceNotice | OpenIncidentFromNotice],
) -> Callable[..., Awaitable[None]]:
    async def on_click(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        value = str(body["actions"][0].get("value", ""))
        if not value.isdigit():
            return  # not a button we rendered
        inv = Invocation(actor=body["user"]["id"], channel_id=(body.get("channel") or {}).get("id"))
        deps.background.spawn(
            run_command(deps, command_for(int(value)), inv, respond_answer(respond), client=client),
            name=action_id,
        )

    return on_click
