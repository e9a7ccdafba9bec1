"""`/lucia …`: parse at once, ack inside Slack's 3 s, do the work after the ack."""

from __future__ import annotations

__all__ = ["register"]

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import CommandError
from bot.grammar import parse, usage
from bot.incidents.commands import Help, OpenIncident
from bot.slack.dispatch import SlackDeps, respond_answer, run_command
from bot.slack.views.mrkdwn import escape
from bot.slack.views.replies import help_message
from bot.vocabulary import Invocation


def register(app: AsyncApp, deps: SlackDeps) -> None:
    @app.command("/lucia")
    async def lucia(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        try:
            parsed = parse(command.get("text", ""))
        except CommandError as exc:
            await ack(text=f"⚠️ {exc}", response_type="ephemeral")
            return
        if isinstance(parsed, Help):
            message = help_message()
            await ack(text=message.text, blocks=message.blocks_json(), response_type="ephemeral")
            return
        if isinstance(parsed, OpenIncident) and parsed.title:
            await ack(
                text=f"Opening an incident: {escape(parsed.title)} …", response_type="ephemeral"
            )
        elif isinstance(parsed, OpenIncident) and parsed.severity:
            # `open sev2` with no title: say what's missing, and open the form for it.
            await ack(
                text="⚠️ The incident needs a title: fill in the form, or give it inline.\n"
                f"Usage: `{usage('open')}`",
                response_type="ephemeral",
            )
        else:
            await ack()
        inv = Invocation(actor=command["user_id"], channel_id=command.get("channel_id"))
        deps.background.spawn(
            run_command(
                deps,
                parsed,
                inv,
                respond_answer(respond),
                client=client,
                trigger_id=command.get("trigger_id"),
            ),
            name="slash-command",
        )
