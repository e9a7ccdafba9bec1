"""Everything a page reaches, counted as the person paged would count it: e-mails in a
real SMTP server's mailbox, pushes at a local ntfy, DMs in the local Slack."""

from __future__ import annotations

__all__ = ["HoldingMailbox", "Reach", "reach"]

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tests.fakes.ntfy import FakeNtfy
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.smtp import Mailbox, smtp_server


class HoldingMailbox(Mailbox):
    """Keeps a mail as soon as its DATA arrives; while `hold` is set it answers 250 only
    seconds later — the server has the mail, the sender doesn't know yet."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = threading.Event()  # set and read across the SMTP server's thread

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        for _ in range(100):
            if not self.hold.is_set():
                break
            await asyncio.sleep(0.05)
        return reply


@dataclass
class Reach:
    mailbox: HoldingMailbox
    ntfy: FakeNtfy
    slack: FakeSlackAPI
    env: dict[str, str]

    def mails_to(self, address: str) -> int:
        return sum(m["To"].addresses[0].addr_spec == address for m in self.mailbox.messages())

    def pushes_to(self, topic: str) -> int:
        return sum(p.topic == topic for p in self.ntfy.delivered)

    def dms_to(self, user: str) -> int:
        channel = self.slack.channels.get("D" + user[1:])
        return len(channel.messages) if channel else 0

    def count(self, person: tuple[str, str, str]) -> tuple[int, int, int]:
        """(e-mails, pushes, Slack DMs) that reached (address, topic, Slack id)."""
        address, topic, user = person
        return self.mails_to(address), self.pushes_to(topic), self.dms_to(user)


@asynccontextmanager
async def reach(slack: FakeSlackAPI) -> AsyncIterator[Reach]:
    mailbox = HoldingMailbox()
    with smtp_server(mailbox) as port:
        async with FakeNtfy() as ntfy:
            env = {
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(port),
                "SMTP_FROM": "Lucia on-call <oncall@lucia.example>",
                "SMTP_TLS": "none",
                "NTFY_URL": ntfy.url,
            }
            yield Reach(mailbox, ntfy, slack, env)
