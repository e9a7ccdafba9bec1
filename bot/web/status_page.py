"""The public status page, served by the bot itself: `GET /status`, `/status/history`,
Statuspage's v2 JSON under `/api/v2/`, and `/history.atom`. Public, no sign-in.

Each request is answered from one read of the page (`StatusService.view()`) and one
render of its body. Requests that arrive while a read is under way share it, and the
bodies rendered from it: under load one read serves many requests, and none is answered
from data older than the moment it arrived, less the read's own few milliseconds.
Every answer may be cached by anyone for 30 s, served stale for a minute while it is
fetched again, and for a day while the bot is down (RFC 5861): Cloudflare in front keeps
the page up through a restart or a deploy. A strong ETag (a hash of the body) answers a
matching `If-None-Match` with 304. A database that can't be read is a 503 that no cache
keeps, so a cache goes on serving its stale copy (`stale-if-error`)."""

from __future__ import annotations

__all__ = ["CACHE_CONTROL", "StatusPage", "etag_of"]

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from bot.errors import StoreUnavailable
from bot.status.page import PageView
from bot.status.service import StatusService
from bot.web.status_atom import history_atom
from bot.web.status_html import StatusHtml
from bot.web.status_json import (
    components_document,
    incidents_document,
    maintenances_document,
    status_document,
    summary_document,
)
from bot.web.status_links import PageSite

CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60, stale-if-error=86400"
HTML_SECURITY = {
    # Nothing runs on the page and nothing is fetched but itself; styles are inline.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

Render = Callable[[PageView, PageSite], bytes]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison, which If-None-Match uses: a cache that compressed the
    body (Cloudflare does) sends our tag back as W/"…", and it still matches."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


def _json(document: Callable[[PageView, PageSite], dict[str, Any]]) -> Render:
    return lambda view, site: orjson.dumps(document(view, site))


@dataclass
class _Read:
    """One read of the page, and each body rendered from it (by path) with its ETag."""

    view: PageView
    site: PageSite
    bodies: dict[str, tuple[bytes, str]] = field(default_factory=dict)


class StatusPage:
    def __init__(self, status: StatusService, public_url: str | None) -> None:
        self._status = status
        self._public_url = public_url  # when lucia.yaml's `status_page.url` isn't set
        self._html = StatusHtml()
        self._reading: asyncio.Task[_Read] | None = None  # the read under way, if any

    def routes(self) -> list[web.RouteDef]:
        html, json, atom = "text/html", "application/json", "application/atom+xml"
        pages: list[tuple[str, Render, str]] = [
            ("/status", self._html.page, html),
            ("/status/history", self._html.history, html),
            ("/history.atom", history_atom, atom),
            ("/api/v2/summary.json", _json(summary_document), json),
            ("/api/v2/status.json", _json(status_document), json),
            ("/api/v2/components.json", _json(components_document), json),
            ("/api/v2/incidents.json", _json(incidents_document), json),
            (
                "/api/v2/incidents/unresolved.json",
                _json(lambda v, s: incidents_document(v, s, unresolved=True)),
                json,
            ),
            ("/api/v2/scheduled-maintenances.json", _json(maintenances_document), json),
        ]
        return [web.get(path, self._handler(render, kind)) for path, render, kind in pages]

    def _handler(self, render: Render, content_type: str) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._respond(request, render, content_type)

        return handle

    async def _read(self) -> _Read:
        """The read under way, or a new one. Shielded: a client that goes away doesn't
        cancel the read the others wait for."""
        if self._reading is None:
            self._reading = asyncio.create_task(self._fresh(), name="status page read")
            self._reading.add_done_callback(self._landed)
        return await asyncio.shield(self._reading)

    async def _fresh(self) -> _Read:
        view = await self._status.view()
        return _Read(view, PageSite.of(view, self._public_url))

    def _landed(self, task: asyncio.Task[_Read]) -> None:
        if self._reading is task:
            self._reading = None  # the next request reads anew
        if not task.cancelled():
            task.exception()  # seen by whoever waited; none left unretrieved

    async def _respond(
        self, request: web.Request, render: Render, content_type: str
    ) -> web.StreamResponse:
        try:
            read = await self._read()
        except StoreUnavailable:
            return web.Response(
                status=503,
                text="The status page can't read its data just now. Try again in a minute.",
                headers={"Cache-Control": "no-store", "Retry-After": "30"},
            )
        path = request.path
        if path not in read.bodies:
            body = render(read.view, read.site)
            read.bodies[path] = body, etag_of(body)
        body, etag = read.bodies[path]
        headers = {
            "Cache-Control": CACHE_CONTROL,
            "ETag": etag,
            "X-Content-Type-Options": "nosniff",
        }
        if content_type == "application/json":
            headers["Access-Control-Allow-Origin"] = "*"  # widgets on other sites read it
        elif content_type == "text/html":
            headers.update(HTML_SECURITY)
        if _matches(request.headers.get("If-None-Match"), etag):
            return web.Response(status=304, headers=headers)
        charset = None if content_type == "application/json" else "utf-8"
        return web.Response(body=body, content_type=content_type, charset=charset, headers=headers)
