"""Pages by e-mail, sent over SMTP with aiosmtplib."""

from __future__ import annotations

__all__ = ["EmailNotifier", "TlsMode"]

import asyncio
import socket
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal, TypeVar

import aiosmtplib

from bot.errors import DeliveryFailed
from bot.paging.plain import plain_lines, plain_title
from bot.paging.ports import Contact, PageMessage
from bot.slack_links import channel_link

TlsMode = Literal["starttls", "tls", "none"]
_TLS_MODES: dict[str, TlsMode] = {"starttls": "starttls", "tls": "tls", "none": "none"}
_E = TypeVar("_E", bound=BaseException)


class EmailNotifier:
    """Sends one e-mail per page. The receipt is the message's Message-ID."""

    channel: str = "email"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        tls: TlsMode = "starttls",
        cert_bundle: str | None = None,  # extra trusted CA file, for tests and private relays
        timeout: float = 10.0,
    ) -> None:
        if tls not in _TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(_TLS_MODES)}, not {tls!r}")
        if "@" not in parseaddr(sender)[1]:
            raise ValueError(f"sender {sender!r} is not an e-mail address")
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._tls = tls
        self._cert_bundle = cert_bundle
        self._timeout = timeout
        self._domain = parseaddr(sender)[1].rpartition("@")[2] or "lucia.invalid"

    def __repr__(self) -> str:
        return f"EmailNotifier({self._host}:{self._port}, tls={self._tls})"

    def reaches(self, contact: Contact, page: PageMessage) -> bool:
        return bool(contact.email)

    async def send(self, contact: Contact, page: PageMessage) -> str:
        if not contact.email:
            raise DeliveryFailed(f"{contact.name} has no e-mail address")
        message = self._message(contact, contact.email, page)
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            use_tls=self._tls == "tls",
            start_tls=self._tls == "starttls",
            cert_bundle=self._cert_bundle,
            timeout=self._timeout,
        )
        try:
            # aiosmtplib's timeout is per step; paging wants one deadline for the whole send.
            async with asyncio.timeout(self._timeout):
                await smtp.connect()  # STARTTLS and login, as configured
                await smtp.send_message(
                    message, sender=parseaddr(self._sender)[1], recipients=[contact.email]
                )
                await smtp.quit()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(self._scrub(self._reason(exc))) from None
        finally:
            smtp.close()  # a send cut off midway (timeout, TLS failure) leaves no socket open
        return str(message["Message-ID"])

    def _message(self, contact: Contact, address: str, page: PageMessage) -> EmailMessage:
        """People by name, never Slack's `<@U…>`: mail readers show it as it is."""
        message = EmailMessage()
        name = _one_line(page.person.name)
        try:
            message["To"] = Address(display_name=name, addr_spec=address)
        except (ValueError, IndexError):
            raise DeliveryFailed(f"{address!r} isn't a usable e-mail address") from None
        message["From"] = self._sender
        title = plain_title(page)
        message["Subject"] = title
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(f"page{page.page_id}", domain=self._domain)
        if page.urgent:
            message["X-Priority"] = "1"
            message["Importance"] = "high"
        link = channel_link(page.incident_channel) if page.incident_channel else None
        parts = [title, plain_lines(page), link]
        message.set_content("\n\n".join(p for p in parts if p))
        return message

    def _reason(self, exc: BaseException) -> str:
        where = f"smtp {self._host}:{self._port}"
        cert_error = _find(exc, ssl.SSLCertVerificationError)
        if cert_error is not None:
            return f"{where}: TLS certificate not trusted ({cert_error.verify_message})"
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
            exc = exc.recipients[0]
        match exc:
            case aiosmtplib.SMTPRecipientRefused():
                return f"{where} refused the recipient {exc.recipient}: {exc.code} {exc.message}"
            case aiosmtplib.SMTPSenderRefused():
                return f"{where} refused the sender {exc.sender}: {exc.code} {exc.message}"
            case aiosmtplib.SMTPAuthenticationError():
                return f"{where} refused the login of {self._username}: {exc.code} {exc.message}"
            case aiosmtplib.SMTPDataError():
                return f"{where} refused the message: {exc.code} {exc.message}"
            case aiosmtplib.SMTPResponseException():
                return f"{where} answered {exc.code} {exc.message}"
            case TimeoutError():
                return f"{where} timed out after {self._timeout:g} s"
            case aiosmtplib.SMTPConnectError():
                cause = exc.__cause__
                detail = _os_error(cause) if isinstance(cause, OSError) else exc.message
                return f"{where} unreachable: {detail}"
            case ssl.SSLError():
                return f"{where}: TLS failed ({exc.reason or exc})"
            case aiosmtplib.SMTPServerDisconnected():
                return f"{where} closed the connection: {exc.message}"
            case aiosmtplib.SMTPException():
                return f"{where}: {exc.message}"
            case OSError():
                return f"{where} unreachable: {_os_error(exc)}"
        return f"{where}: {type(exc).__name__}"

    def _scrub(self, reason: str) -> str:
        # A server may echo what it was sent; the password must never reach a timeline.
        return reason.replace(self._password, "***") if self._password else reason


def _one_line(text: str) -> str:
    """Header values can't carry line breaks (an incident title might)."""
    return " ".join(text.split())


def _find(exc: BaseException, kind: type[_E]) -> _E | None:
    """`exc` or the error it was raised from (aiosmtplib wraps TLS failures)."""
    seen: BaseException | None = exc
    for _ in range(5):  # chains are short; a bound keeps a cyclic one from hanging us
        if seen is None or isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _os_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host not found"
    return exc.strerror or str(exc) or type(exc).__name__
