"""A local stand-in for an ntfy server's publish API, served over real HTTP on 127.0.0.1.

Point ``PushNotifier(session, fake.url)`` at it. It takes JSON published to the root URL and
the header form (``POST /<topic>`` with the message as the body), answers with the stored
message or ntfy's JSON errors, records every publish (refused ones too) and can be told to
fail, to demand a token, or to answer slowly. Facts it follows:
``/work/shared/reference/platform.md`` §5 and ntfy's ``server/errors.go``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from tests.fakes.local_server import LocalServer

__all__ = ["FakeNtfy", "NtfyPublish"]

MESSAGE_LIMIT = 4096  # bytes; ntfy stores a longer message as an attachment
_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
_LIMITS_LINK = "https://ntfy.sh/docs/publish/#limitations"
_AUTH_LINK = "https://ntfy.sh/docs/publish/#authentication"
_ERRORS: dict[int, tuple[int, str, str]] = {  # status -> (code, error, link)
    400: (40009, "invalid request: topic invalid", ""),
    401: (40101, "unauthorized", _AUTH_LINK),
    403: (40301, "forbidden", _AUTH_LINK),
    429: (42901, "limit reached: too many requests", _LIMITS_LINK),
    500: (50001, "internal server error", ""),
}
_PRIORITIES = {"min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5}

Body = dict[str, Any]


@dataclass(frozen=True)
class NtfyPublish:
    path: str  # "/" for JSON publishing, "/<topic>" for the header form
    topic: str  # "" when the JSON named none
    body: str  # the request body as sent
    headers: CIMultiDict[str]
    status: int  # what the fake answered
    message: Body | None = None  # the stored message, when accepted
    at: float = field(default_factory=time.monotonic)  # when it arrived (benchmarks)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Failure:
    status: int
    body: Body
    times: int


class FakeNtfy(LocalServer):
    def __init__(self, *, require_token: str | None = None, delay: float = 0.0) -> None:
        super().__init__()
        self.require_token = require_token  # then publishing needs `Authorization: Bearer <it>`
        self.delay = delay  # seconds before answering (a slow server)
        self.published: list[NtfyPublish] = []
        self._failures: list[_Failure] = []

    # ----------------------------------------------------------------- lifecycle
    def routes(self, app: web.Application) -> None:
        app.router.add_route("POST", "/", self._publish_json)
        app.router.add_route("PUT", "/", self._publish_json)
        app.router.add_route("POST", "/{topic}", self._publish_text)
        app.router.add_route("PUT", "/{topic}", self._publish_text)

    @property
    def url(self) -> str:
        return self.base

    # ----------------------------------------------------------------- test helpers
    @property
    def delivered(self) -> list[NtfyPublish]:
        return [p for p in self.published if p.message is not None]

    def fail_next(
        self,
        status: int = 429,
        *,
        error: str | None = None,
        code: int | None = None,
        times: int = 1,
    ) -> None:
        """Refuse the next `times` publishes the way ntfy does (default: rate limited)."""
        default_code, default_error, link = _ERRORS.get(status, (status * 100 + 1, "failed", ""))
        body: Body = {"code": code or default_code, "http": status, "error": error or default_error}
        if link:
            body["link"] = link
        self._failures.append(_Failure(status, body, times))

    # ----------------------------------------------------------------- HTTP layer
    async def _publish_json(self, request: web.Request) -> web.Response:
        raw = await request.text()
        try:
            fields = json.loads(raw)
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            body = {
                "code": 40024,
                "http": 400,
                "error": "invalid request: request body must be valid JSON",
            }
            return await self._answer(request, "", raw, 400, body)
        return await self._publish(request, str(fields.get("topic") or ""), raw, fields)

    async def _publish_text(self, request: web.Request) -> web.Response:
        raw = await request.text()
        h = request.headers
        fields: Body = {"message": raw}
        if title := _header(h, "X-Title", "Title", "t"):
            fields["title"] = title
        if priority := _header(h, "X-Priority", "Priority", "prio", "p"):
            fields["priority"] = _PRIORITIES.get(priority.lower(), priority)
        if tags := _header(h, "X-Tags", "Tags", "tag", "ta"):
            fields["tags"] = [t.strip() for t in tags.split(",") if t.strip()]
        if click := _header(h, "X-Click", "Click"):
            fields["click"] = click
        return await self._publish(request, request.match_info["topic"], raw, fields)

    async def _publish(
        self, request: web.Request, topic: str, raw: str, fields: Body
    ) -> web.Response:
        if self._failures:
            failure = self._failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self._failures.pop(0)
            return await self._answer(request, topic, raw, failure.status, failure.body)
        if self.require_token is not None:
            auth = request.headers.get("Authorization")
            if auth is None:
                return await self._answer(request, topic, raw, 403, _error(403))
            if auth != f"Bearer {self.require_token}":
                return await self._answer(request, topic, raw, 401, _error(401))
        if not _TOPIC.match(topic):
            return await self._answer(request, topic, raw, 400, _error(400))
        priority = fields.get("priority")
        if priority is not None and priority not in range(1, 6):
            body = {"code": 40007, "http": 400, "error": "invalid priority parameter"}
            return await self._answer(request, topic, raw, 400, body)
        return await self._answer(request, topic, raw, 200, _message(topic, fields))

    async def _answer(
        self, request: web.Request, topic: str, raw: str, status: int, body: Body
    ) -> web.Response:
        stored = body if status == 200 else None
        self.published.append(
            NtfyPublish(request.path, topic, raw, CIMultiDict(request.headers), status, stored)
        )
        if self.delay and self._closing is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.delay)
        return web.json_response(body, status=status)


def _header(headers: Any, *names: str) -> str | None:
    return next((headers[n] for n in names if n in headers), None)


def _error(status: int) -> Body:
    code, error, link = _ERRORS[status]
    body: Body = {"code": code, "http": status, "error": error}
    return body | ({"link": link} if link else {})


def _message(topic: str, fields: Body) -> Body:
    now = int(time.time())
    text = str(fields.get("message") or "triggered")  # ntfy's word for an empty message
    message: Body = {
        "id": secrets.token_urlsafe(9)[:12],
        "time": now,
        "expires": now + 12 * 3600,
        "event": "message",
        "topic": topic,
    }
    for key in ("title", "priority", "tags", "click"):
        if fields.get(key):
            message[key] = fields[key]
    if len(text.encode()) > MESSAGE_LIMIT:
        # What a phone then shows: a file to download instead of the page text.
        message["message"] = "You received a file: attachment.txt"
        message["attachment"] = {"name": "attachment.txt", "size": len(text.encode())}
    else:
        message["message"] = text
    return message
