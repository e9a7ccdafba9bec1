"""Form submissions: opening an incident, and posting an update."""

from __future__ import annotations

__all__ = ["register"]

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.incidents.commands import MAX_TITLE, OpenIncident, PostUpdate, SetStatus
from bot.incidents.model import Status
from bot.slack.dispatch import SlackDeps, ephemeral_answer, run_command
from bot.slack.views.ids import DECLARE_CALLBACK, UPDATE_CALLBACK
from bot.vocabulary import Invocation, Severity


def _value(values: dict[str, Any], block: str, action: str) -> Any:
    element = values.get(block, {}).get(action, {})
    if "selected_option" in element:
        return (element["selected_option"] or {}).get("value")
    if "selected_users" in element:
        return element["selected_users"] or []
    return element.get("value")


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.view(DECLARE_CALLBACK)
    async def declare(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values = body["view"]["state"]["values"]
        title = " ".join((_value(values, "title_block", "title_input") or "").split())
        if not title or len(title) > MAX_TITLE:
            await ack(
                response_action="errors",
                errors={
                    "title_block": f"Give the incident a title of at most {MAX_TITLE} characters."
                },
            )
            return
        severity = Severity.parse(_value(values, "severity_block", "severity_select") or "")
        await ack()
        metadata = json.loads(body["view"].get("private_metadata") or "{}")
        user = body["user"]["id"]
        command = OpenIncident(
            title=title,
            severity=severity,
            description=_value(values, "description_block", "description_input") or "",
            responders=tuple(_value(values, "responders_block", "responders_select") or ()),
        )
        origin = metadata.get("origin_channel_id")
        deps.background.spawn(
            run_command(
                deps,
                command,
                Invocation(actor=user, channel_id=origin),
                ephemeral_answer(client, origin, user),
                client=client,
            ),
            name="form-open",
        )

    @app.view(UPDATE_CALLBACK)
    async def update(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        values = body["view"]["state"]["values"]
        text = (_value(values, "text_block", "text_input") or "").strip()
        if not text:
            await ack(response_action="errors", errors={"text_block": "Say what's new."})
            return
        await ack()
        metadata = json.loads(body["view"]["private_metadata"])
        number, origin = int(metadata["number"]), metadata.get("origin_channel_id")
        status = _value(values, "status_block", "status_select")
        command = (
            SetStatus(number, Status(status), text)
            if status and status != "keep"
            else PostUpdate(number, text)
        )
        user = body["user"]["id"]
        deps.background.spawn(
            run_command(
                deps,
                command,
                Invocation(actor=user, channel_id=origin),
                ephemeral_answer(client, origin, user),
                client=client,
                give_back=text,
            ),
            name="form-update",
        )
