"""A local stand-in for Cloudflare's API v4 purge by URL, served over real HTTP on
127.0.0.1: ``POST /client/v4/zones/{zone_id}/purge_cache`` with ``Authorization: Bearer
<API token>`` and ``{"files": [url, …]}``.

Point ``CloudflarePurge(session, fake.token, fake.zone_id, fake.url)`` at it; ``fake.url``
is the base, ``http://127.0.0.1:PORT/client/v4``. Every answer is the v4 envelope
``{"success", "errors": [{"code", "message"}], "messages", "result"}``; a purge answers
``result: {"id": …}`` and its URLs are kept, one list per request, in `purged`.

What it enforces, as Cloudflare does: the token (none or another is 401 with code 10000,
"Authentication error"; a token that is known but lacks Cache Purge, `permitted = False`,
is 403 with the same code), an Authorization header that is not ``Bearer <token68>`` (400,
6003 with 6111 in its `error_chain`), the zone (another id is 404 with 7003, "Could not
route to …"; a path that is no endpoint is 404 with 7000, "No route for that URI"), and at
most `max_files` URLs per request (30, the Free/Pro/Business limit: a 400 that purges
nothing). Those codes (10000, 6003/6111, 7003, 7000) are the ones Cloudflare is seen
answering; the codes and words of the other errors (over the limit, a bad body, the 429,
a 5xx, a ``success: false``) are the fake's own: Cloudflare documents the statuses and
the envelope, not them.

`rate_limit_next` makes the next purge a 429 (with ``Retry-After``, or without);
`fail_next` a 5xx with an error envelope (or an HTML page, as Cloudflare's edge sends);
`refuse_next` a 200 that says ``success: false``; `answer_next` any status and body (JSON,
or raw bytes); `hang` makes every later call answer only when the fake closes. Every
request is kept in `calls`, refused ones too.
"""

from __future__ import annotations

__all__ = ["DEFAULT_TOKEN", "DEFAULT_ZONE_ID", "CloudflareCall", "FakeCloudflareAPI"]

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

DEFAULT_TOKEN = "Yk3vQ9rT2mW8xZ5nB7cD1fG4hJ6kL0pS3uV9wX2a"  # 40 characters, as issued
DEFAULT_ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"  # 32 hex digits, like a real zone id
_PREFIX = "/client/v4"
_PURGE = re.compile(r"^/client/v4/zones/(?P<zone>[^/]+)/purge_cache$")
_TOKEN68 = re.compile(r"^Bearer [A-Za-z0-9\-._~+/]+=*$")
_JSON = "application/json"


@dataclass
class CloudflareCall:
    method: str
    path: str
    headers: CIMultiDict[str]
    body: Any  # the parsed JSON body; None when there was none or it wasn't JSON
    at: float = field(default_factory=time.monotonic)
    status: int | None = None  # what the fake answered


@dataclass
class _Next:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]


class FakeCloudflareAPI(LocalServer):
    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        zone_id: str = DEFAULT_ZONE_ID,
        max_files: int = 30,
    ) -> None:
        super().__init__()
        self.token = token
        self.zone_id = zone_id
        self.max_files = max_files
        self.permitted = True  # False: the token lacks the zone's Cache Purge permission
        self.calls: list[CloudflareCall] = []
        self.purged: list[list[str]] = []  # the URLs of each purge, in the order they came
        self._next: list[_Next] = []
        self._hanging = False

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    @property
    def url(self) -> str:
        return self.base + _PREFIX

    @property
    def purged_urls(self) -> list[str]:
        """Every URL purged, across requests."""
        return [url for batch in self.purged for url in batch]

    # ----------------------------------------------------------------- test helpers
    def rate_limit_next(self, *, retry_after: float | None = 30.0) -> None:
        """The next purge is refused with 429 and `Retry-After` (None: none sent)."""
        headers = {} if retry_after is None else {"Retry-After": _number(retry_after)}
        self._planned(429, _failure(971, "Please wait and consider throttling your request speed"))
        self._next[-1].headers.update(headers)

    def fail_next(self, status: int = 500, *, html: bool = False) -> None:
        """The next purge fails: an error envelope, or the HTML page Cloudflare's edge sends."""
        if html:
            page = f"<html><head><title>{status} error</title></head></html>"
            self._next.append(_Next(status, page.encode(), "text/html", {}))
        else:
            self._planned(status, _failure(10001, "Internal error"))

    def refuse_next(self, code: int = 1134, message: str = "Purge request failed") -> None:
        """The next purge is answered 200 with ``success: false`` and this error."""
        self._planned(200, _failure(code, message))

    def answer_next(
        self,
        status: int,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next purge is answered `status` with JSON `body`, or exactly `raw`."""
        payload = raw if raw is not None else (b"" if body is None else _json(body))
        kind = content_type or (_JSON if raw is None else "text/html")
        self._next.append(_Next(status, payload, kind, dict(headers or {})))

    def hang(self) -> None:
        """Every later call is answered only when the fake closes (a Cloudflare that never
        answers)."""
        self._hanging = True

    def _planned(self, status: int, body: dict[str, Any]) -> None:
        self._next.append(_Next(status, _json(body), _JSON, {}))

    # ----------------------------------------------------------------- HTTP layer
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        call = CloudflareCall(request.method, request.path, request.headers.copy(), body)
        self.calls.append(call)
        if self._hanging and self._closing is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), 3600)
        status, payload, content_type, headers = self._answer(call)
        call.status = status
        return web.Response(status=status, body=payload, content_type=content_type, headers=headers)

    def _answer(self, call: CloudflareCall) -> tuple[int, bytes, str, dict[str, str]]:
        auth = call.headers.get("Authorization", "")
        if auth and not _TOKEN68.match(auth):
            chain = [{"code": 6111, "message": "Invalid format for Authorization header"}]
            error = {"code": 6003, "message": "Invalid request headers", "error_chain": chain}
            return _envelope(400, {**_failure(0, ""), "errors": [error]})
        if auth != f"Bearer {self.token}":
            return _envelope(401, _failure(10000, "Authentication error"))
        match = _PURGE.match(call.path)
        if match is None:
            return _envelope(404, _failure(7000, "No route for that URI"))
        if match["zone"] != self.zone_id:
            where = call.path.removeprefix(_PREFIX)
            message = f"Could not route to {where}, perhaps your object identifier is invalid?"
            return _envelope(404, _failure(7003, message))
        if call.method != "POST":
            return _envelope(405, _failure(10405, f"Method {call.method} not allowed"))
        if not self.permitted:
            return _envelope(403, _failure(10000, "Authentication error"))
        if self._next:
            planned = self._next.pop(0)
            return planned.status, planned.body, planned.content_type, planned.headers
        files = call.body.get("files") if isinstance(call.body, dict) else None
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            return _envelope(400, _failure(1014, "`files` must be an array of URLs"))
        if len(files) > self.max_files:
            message = f"You may purge up to {self.max_files} files in one API call"
            return _envelope(400, _failure(1015, message))
        self.purged.append(list(files))
        ok = {
            "success": True,
            "errors": [],
            "messages": [],
            "result": {"id": secrets.token_hex(16)},
        }
        return _envelope(200, ok)


def _failure(code: int, message: str) -> dict[str, Any]:
    return {
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": None,
    }


def _envelope(status: int, body: dict[str, Any]) -> tuple[int, bytes, str, dict[str, str]]:
    return status, _json(body), _JSON, {}


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
