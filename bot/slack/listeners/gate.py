"""The launch gate's Re-check button: `ShowGate` for the button's phase, for the one who
clicks. The new report takes the place of the one clicked (in the incidents channel, for
everyone there); a refusal or a failure is said to the clicker alone, and the report stays."""

from __future__ import annotations

__all__ = ["register"]

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.gate.commands import ShowGate
from bot.slack.dispatch import SlackDeps, respond_answer, run_command
from bot.slack.views.ids import GATE_RECHECK_ACTION
from bot.vocabulary import Invocation

# A phase's name as lucia.yaml allows it; any other value isn't a button we rendered.
_PHASE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.action(GATE_RECHECK_ACTION)
    async def recheck(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        phase = str(body["actions"][0].get("value", ""))
        if not _PHASE.fullmatch(phase):
            return
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        deps.background.spawn(
            run_command(
                deps,
                ShowGate(phase),
                Invocation(actor=body["user"]["id"], channel_id=channel),
                respond_answer(respond),
                client=client,
                replied=respond_answer(respond, replace=True),
            ),
            name=GATE_RECHECK_ACTION,
        )
