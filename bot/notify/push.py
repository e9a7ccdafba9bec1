"""Pages as push notifications, published as JSON to an ntfy server (ntfy.sh or self-hosted)."""

from __future__ import annotations

__all__ = ["MESSAGE_LIMIT_BYTES", "PushNotifier", "fit_message"]

import json
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.errors import DeliveryFailed
from bot.paging.plain import plain_lines, plain_title
from bot.paging.ports import Contact, PageMessage
from bot.slack_links import channel_link

MESSAGE_LIMIT_BYTES = 4096  # ntfy turns a longer message into a file attachment
_ELLIPSIS = "…"


class PushNotifier:
    """Publishes one ntfy message per page. The receipt is ntfy's message id.

    Reasons never name the topic: on ntfy.sh a topic is as good as a password.
    """

    channel: str = "push"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        self._session = session
        # JSON publishing goes to the server's root URL; the topic travels in the body.
        self._url = base_url.rstrip("/") + "/"
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        parts = urlsplit(self._url)
        self._where = f"ntfy {parts.netloc.rpartition('@')[2] or self._url}"

    def __repr__(self) -> str:
        return f"PushNotifier({self._url})"

    def reaches(self, contact: Contact, page: PageMessage) -> bool:
        return bool(contact.push_topic)

    async def send(self, contact: Contact, page: PageMessage) -> str:
        if not contact.push_topic:
            raise DeliveryFailed(f"{contact.name} has no push topic")
        title = plain_title(page)  # people by name: a phone shows `<@U…>` as it is
        body: dict[str, Any] = {
            "topic": contact.push_topic,
            "title": title,
            "message": fit_message(plain_lines(page) or title),
            "priority": 5 if page.urgent else 4,
            "tags": [_tag(page)],
        }
        if page.incident_channel:
            body["click"] = channel_link(page.incident_channel)
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            async with self._session.post(
                self._url,
                json=body,
                headers=headers,
                timeout=self._timeout,
                # aiohttp would turn a redirected POST into a GET and lose the message.
                allow_redirects=False,
            ) as response:
                status = response.status
                location = response.headers.get("Location", "")
                answer = _json(await response.text())
        except TimeoutError:
            total = self._timeout.total or 0
            raise DeliveryFailed(f"{self._where} timed out after {total:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise DeliveryFailed(f"{self._where} unreachable: {_os_error(exc.os_error)}") from None
        except aiohttp.ClientError as exc:
            raise DeliveryFailed(f"{self._where} failed: {exc or type(exc).__name__}") from None
        if 200 <= status < 300:
            message_id = answer.get("id")
            if isinstance(message_id, str) and message_id:
                return message_id
            raise DeliveryFailed(
                f"{self._where} answered {status} without a message id: "
                "is NTFY_URL the address of an ntfy server?"
            )
        raise DeliveryFailed(self._refusal(status, answer, location))

    def _refusal(self, status: int, answer: dict[str, Any], location: str) -> str:
        error = answer.get("error")
        reason = f"ntfy {status}: {error}" if isinstance(error, str) and error else f"ntfy {status}"
        if 300 <= status < 400:
            return f"{reason}: NTFY_URL redirects to {location or 'elsewhere'}; set it to that URL"
        if status in (401, 403):
            if self._token is None:
                return f"{reason}: the topic needs a token and NTFY_TOKEN is not set"
            return f"{reason}: NTFY_TOKEN is wrong, expired or may not publish to this topic"
        return reason


def _tag(page: PageMessage) -> str:
    """The emoji ntfy shows: a test page must never look like an alarm."""
    if page.test:
        return "test_tube"
    return "rotating_light" if page.urgent else "warning"


def fit_message(text: str, limit: int = MESSAGE_LIMIT_BYTES) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, ending in an ellipsis when cut."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    room = limit - len(_ELLIPSIS.encode())
    # Cutting bytes may split a character; dropping the broken tail keeps the text valid.
    return raw[:room].decode(errors="ignore") + _ELLIPSIS


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _os_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host not found"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({exc.verify_message})"
    return exc.strerror or str(exc) or type(exc).__name__
