"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it accepts."""

from __future__ import annotations

__all__ = ["Mailbox", "smtp_server"]

import email
import email.policy
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.drivers.ports import free_port


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and refuses chosen recipients."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.envelopes: list[Any] = []
        self.arrived: list[float] = []  # time.monotonic() of each accepted mail (benchmarks)
        self.logged_in: list[bool] = []  # per accepted mail: did the client log in first

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.arrived.append(time.monotonic())
        self.logged_in.append(bool(session.authenticated))
        return "250 Message accepted for delivery"

    def received(self) -> EmailMessage:
        assert len(self.envelopes) == 1, self.envelopes
        return self.messages()[0]

    def messages(self) -> list[EmailMessage]:
        found = []
        for envelope in self.envelopes:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found


@contextmanager
def smtp_server(mailbox: Mailbox) -> Iterator[int]:
    """A plain SMTP server on 127.0.0.1 delivering into `mailbox`; yields its port."""
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
