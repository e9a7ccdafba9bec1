"""Where a playbook run reports: the Slack channel it was asked in, else the log."""

from __future__ import annotations

__all__ = ["SlackRunChannel"]

import contextlib
import logging

from bot import log_messages as msg
from bot.errors import ChatError
from bot.incidents.replies import PlaybookPlan
from bot.slack.chat import SlackChat
from bot.slack.views.message import Message
from bot.slack.views.mrkdwn import escape, mentions_kept
from bot.slack.views.replies import reply_message
from bot.text import stored_text

log = logging.getLogger(__name__)


class SlackRunChannel:
    def __init__(self, slack: SlackChat | None) -> None:
        self._slack = slack  # None: Slack is off, and runs report in the log

    async def say(self, channel: str | None, text: str) -> None:
        if self._slack is not None and channel:
            with contextlib.suppress(ChatError):  # the run's steps are stored either way
                # Commit messages are in it: no `<!channel>` of theirs may ping anyone.
                await self._slack.post_message(channel, Message(mentions_kept(escape(text))))
                return
        log.info(msg.PLAYBOOK_SAID, extra={"channel": channel, "text": text})

    async def ask(self, channel: str | None, plan: PlaybookPlan) -> None:
        if self._slack is not None and channel:
            with contextlib.suppress(ChatError):
                await self._slack.post_message(channel, reply_message(plan))
                return
        await self.say(channel, plan.text if isinstance(plan.text, str) else stored_text(plan.text))
