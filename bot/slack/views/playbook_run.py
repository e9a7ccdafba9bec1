"""A playbook run's plan, with the buttons that confirm, cancel or approve it."""

from __future__ import annotations

__all__ = ["playbook_plan"]

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.command_text import MAX_TEXT
from bot.slack.views.ids import RUN_ACTIONS
from bot.slack.views.layout import button, section
from bot.slack.views.message import Message
from bot.slack.views.mrkdwn import escape, fallback, mentions_kept, render
from bot.text import Text

_RUN_BUTTONS = {
    "confirm": ("Confirm", "danger"),
    "cancel": ("Cancel", None),
    "approve": ("Approve", "primary"),
}


def playbook_plan(run_id: int, text: str | Text, choices: Sequence[str]) -> Message:
    shown = render(text) if isinstance(text, Text) else mentions_kept(escape(text))
    blocks: list[Block] = [section(shown[:MAX_TEXT])]
    if choices:
        buttons = [
            button(_RUN_BUTTONS[c][0], RUN_ACTIONS[c], str(run_id), _RUN_BUTTONS[c][1])
            for c in choices
        ]
        blocks.append(ActionsBlock(block_id=f"run_{run_id}", elements=buttons))
    return Message((fallback(text) if isinstance(text, Text) else text)[:MAX_TEXT], blocks)
