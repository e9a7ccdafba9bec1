"""Everything a page can reach: the local Slack, a real SMTP server's mailbox and a local
ntfy, with what each received (the `reach` fixture in tests/conftest.py starts them)."""

from __future__ import annotations

__all__ = ["Reach", "reached"]

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tests.fakes.ntfy import FakeNtfy
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.smtp import Mailbox, smtp_server


@dataclass
class Reach:
    """Everything a page can reach: Slack, a mailbox and a push server."""

    slack: FakeSlackAPI
    mailbox: Mailbox
    ntfy: FakeNtfy
    env: dict[str, str]

    def mails_to(self, address: str) -> list[str]:
        return [
            str(m["Subject"])
            for m in self.mailbox.messages()
            if m["To"].addresses[0].addr_spec == address
        ]

    def pushes_to(self, topic: str) -> list[str]:
        return [str(p.json()["title"]) for p in self.ntfy.delivered if p.topic == topic]

    def dms_to(self, user: str) -> list[dict[str, Any]]:
        channel = self.slack.channels.get("D" + user[1:])
        return channel.messages if channel else []


@asynccontextmanager
async def reached(slack: FakeSlackAPI) -> AsyncIterator[Reach]:
    """A mailbox and a push server beside `slack`, and the bot settings that reach them."""
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        async with FakeNtfy() as ntfy:
            env = {
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(port),
                "SMTP_FROM": "Lucia on-call <oncall@lucia.example>",
                "SMTP_TLS": "none",
                "NTFY_URL": ntfy.url,
            }
            yield Reach(slack, mailbox, ntfy, env)
