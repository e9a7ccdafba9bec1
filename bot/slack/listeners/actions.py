"""The incident card's buttons: Acknowledge, Update (a form) and Resolve."""

from __future__ import annotations

__all__ = ["register"]

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import StoreUnavailable, UserError
from bot.grammar import usage
from bot.incidents.commands import Acknowledge, Resolve, ShowIncident
from bot.incidents.replies import Detail
from bot.slack.dispatch import DATABASE_DOWN, SlackDeps, refusal, respond_answer, run_command
from bot.slack.views.ids import ACK_ACTION, RESOLVE_ACTION, UPDATE_ACTION
from bot.slack.views.message import Message
from bot.slack.views.modals import update_modal
from bot.vocabulary import Invocation


def _number(body: dict[str, Any]) -> int | None:
    """Buttons carry the incident number ("42"; older cards "INC-42")."""
    match = re.search(r"(\d+)$", str(body["actions"][0].get("value", "")))
    return int(match.group(1)) if match else None


def _invocation(body: dict[str, Any]) -> Invocation:
    channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id")
    return Invocation(actor=body["user"]["id"], channel_id=channel)


def _run_on_click(
    deps: SlackDeps, action_id: str, command_for: Callable[[int | None], Acknowledge | Resolve]
) -> Callable[..., Awaitable[None]]:
    async def on_click(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        deps.background.spawn(
            run_command(
                deps,
                command_for(_number(body)),
                _invocation(body),
                respond_answer(respond),
                client=client,
            ),
            name=action_id,
        )

    return on_click


def register(app: AsyncApp, deps: SlackDeps) -> None:
    # Buttons that run one command on the card's incident, answering the clicker privately.
    buttons: dict[str, Callable[[int | None], Acknowledge | Resolve]] = {
        ACK_ACTION: Acknowledge,
        RESOLVE_ACTION: lambda number: Resolve(number, summary=""),
    }
    for action_id, command_for in buttons.items():
        app.action(action_id)(_run_on_click(deps, action_id, command_for))

    @app.action(UPDATE_ACTION)
    async def update(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await ack()
        # The form must open within 3 s of the click (trigger_id), so this runs inline.
        answer = respond_answer(respond)
        inv = _invocation(body)
        try:
            reply = await deps.incidents.run(ShowIncident(_number(body), with_timeline=False), inv)
            assert isinstance(reply, Detail)
            await client.views_open(
                trigger_id=body["trigger_id"],
                view=update_modal(reply.incident, inv.channel_id).to_dict(),
            )
        except UserError as exc:
            await answer(Message(f"⚠️ {refusal(exc)}"))
        except StoreUnavailable:
            await answer(Message(DATABASE_DOWN))
        except SlackApiError as exc:
            code = exc.response.get("error", "unknown_error")
            await answer(
                Message(
                    f"⚠️ I couldn't open the update form ({code}). Use `{usage('update')}` instead."
                )
            )
