"""Running a parsed command for a Slack user and answering where they asked."""

from __future__ import annotations

__all__ = [
    "Answer",
    "SlackDeps",
    "ephemeral_answer",
    "refusal",
    "respond_answer",
    "run_command",
    "thread_answer",
]

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import log_messages as msg
from bot.background import BackgroundTasks
from bot.desk import Desk
from bot.errors import DuplicateOpen, StoreUnavailable, UserError
from bot.grammar import Command, usage
from bot.incidents.replies import AskForDetails
from bot.incidents.service import IncidentService
from bot.slack.ports import Dedupe
from bot.slack.views.message import Message
from bot.slack.views.modals import declare_modal
from bot.slack.views.mrkdwn import escape, render
from bot.slack.views.replies import reply_message
from bot.vocabulary import Invocation

log = logging.getLogger(__name__)

Answer = Callable[[Message], Awaitable[None]]

FAILED = (
    "❌ Something failed on my side while doing that; it has been logged. "
    "`/lucia incident show` tells what was stored before you try again."
)


DATABASE_DOWN = (
    "❌ I can't reach the database right now, so that didn't go through — or only partly, "
    "if the connection dropped midway: check `/lucia incident list` once it's back. "
    "The bot's /readyz says what is down."
)


@dataclass(frozen=True)
class SlackDeps:
    desk: Desk
    incidents: IncidentService
    background: BackgroundTasks
    dedupe: Dedupe


async def run_command(
    deps: SlackDeps,
    command: Command,
    inv: Invocation,
    answer: Answer,
    *,
    client: AsyncWebClient,
    trigger_id: str | None = None,
    give_back: str = "",
    replied: Answer | None = None,
) -> None:
    """`give_back`: what the person wrote in a form, returned to them if it isn't stored.
    `replied`: where the command's answer goes when it went through (a refusal or a
    failure still goes to `answer`); `answer` when None."""
    kept = f"\nWhat you wrote, to copy:\n```{escape(give_back)}```" if give_back else ""
    try:
        reply = await deps.desk.run(command, inv)
    except DuplicateOpen as exc:
        await answer(Message(f"⚠️ {refusal(exc)}"))
        return
    except UserError as exc:
        await answer(Message(f"⚠️ {refusal(exc)}{kept}"))
        return
    except StoreUnavailable:
        log.error(msg.COMMAND_FAILED_DATABASE_UNREACHABLE, exc_info=True)
        await answer(Message(DATABASE_DOWN + kept))
        return
    except Exception:
        await answer(Message(FAILED + kept))
        raise
    if isinstance(reply, AskForDetails):
        if trigger_id is None:
            await answer(Message(f"⚠️ The incident needs a title: `{usage('open')}`"))
            return
        try:
            await client.views_open(
                trigger_id=trigger_id, view=declare_modal(reply.severity, inv.channel_id).to_dict()
            )
        except SlackApiError as exc:
            code = exc.response.get("error", "unknown_error")
            await answer(
                Message(
                    f"⚠️ I couldn't open the form ({code}). Give the title inline: `{usage('open')}`"
                )
            )
        return
    await (replied or answer)(reply_message(reply))


def refusal(exc: UserError) -> str:
    """What a refused command says, as mrkdwn: its structured words rendered, else its words."""
    return render(exc.text) if exc.text is not None else str(exc)


def respond_answer(respond: Callable[..., Awaitable[Any]], *, replace: bool = False) -> Answer:
    """Answer through the response_url of a slash command or a button click: privately,
    or (`replace`) in place of the message clicked, seen by whoever saw that message."""

    async def answer(message: Message) -> None:
        if replace:  # no response_type: the message keeps its own, in a channel or private
            await respond(text=message.text, blocks=message.blocks_json(), replace_original=True)
            return
        await respond(
            text=message.text,
            blocks=message.blocks_json(),
            response_type="ephemeral",
            replace_original=False,
        )

    return answer


def ephemeral_answer(
    client: AsyncWebClient, channel_id: str | None, user: str, thread_ts: str | None = None
) -> Answer:
    """Only the user sees it; in a DM when the channel won't take an ephemeral message."""

    async def answer(message: Message) -> None:
        if channel_id:
            try:
                await client.chat_postEphemeral(
                    channel=channel_id,
                    user=user,
                    thread_ts=thread_ts,
                    text=message.text,
                    blocks=message.blocks_json(),
                )
                return
            except SlackApiError as exc:
                log.info(msg.EPHEMERAL_FELL_BACK_TO_DM, extra={"error": exc.response.get("error")})
        await client.chat_postMessage(channel=user, text=message.text, blocks=message.blocks_json())

    return answer


def thread_answer(client: AsyncWebClient, channel_id: str, thread_ts: str) -> Answer:
    async def answer(message: Message) -> None:
        await client.chat_postMessage(
            channel=channel_id,
            thread_ts=thread_ts,
            text=message.text,
            blocks=message.blocks_json(),
        )

    return answer
