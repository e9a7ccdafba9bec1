"""A local web site on 127.0.0.1 whose paths answer the ways a launch-gate URL can: open,
behind Cloudflare Access (a 302 to the team's sign-in page, or a 403), asking for a
password, failing, or never answering. Given a certificate and its key it serves the same
paths over TLS (make them with `tests.fakes.certificates`).

Paths (the `PATHS` names): ``/open`` 200; ``/access`` 302 to
``https://lucia.cloudflareaccess.com/cdn-cgi/access/login/…`` (what Access sends a browser);
``/sign-in-here`` 302 to the relative ``/sign-in?next=…``, which answers 200;
``/forbidden`` 403 (Access's answer to a non-browser client); ``/password`` 401 with
``WWW-Authenticate``; ``/broken`` 500; ``/hang`` never answers (until the site closes);
``/endless`` 200 with a body that never ends. Every request is kept in `requests`.
"""

from __future__ import annotations

__all__ = ["ACCESS_LOGIN", "FakeWebSites", "SiteRequest"]

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from multidict import CIMultiDict

from tests.fakes.local_server import LocalServer

ACCESS_LOGIN = (
    "https://lucia.cloudflareaccess.com/cdn-cgi/access/login/staging.lucia.example"
    "?kid=2f1b8c0d9e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c"
    "&redirect_url=%2Faccess&meta=eyJ0eXAiOiJKV1QifQ"
)
_CHUNK = b"x" * 16384


@dataclass(frozen=True)
class SiteRequest:
    method: str
    path: str
    headers: CIMultiDict[str]


class FakeWebSites(LocalServer):
    def __init__(self, *, certificate: tuple[Path, Path] | None = None) -> None:
        context = None
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*certificate)
        super().__init__(ssl_context=context)
        self.requests: list[SiteRequest] = []
        self.endless_bytes_sent = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    def url(self, path: str) -> str:
        return self.base + path

    def requested(self, path: str) -> list[SiteRequest]:
        return [r for r in self.requests if r.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(SiteRequest(request.method, request.path, request.headers.copy()))
        path = request.path
        if path == "/open":
            return web.Response(text="<h1>Lucia staging</h1>", content_type="text/html")
        if path == "/access":
            return web.Response(status=302, headers={"Location": ACCESS_LOGIN})
        if path == "/sign-in-here":
            return web.Response(status=302, headers={"Location": "/sign-in?next=%2Fsign-in-here"})
        if path == "/sign-in":
            return web.Response(text="<form>Sign in</form>", content_type="text/html")
        if path == "/forbidden":
            return web.Response(status=403, text="Forbidden")
        if path == "/password":
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="staging"'})
        if path == "/broken":
            return web.Response(status=500, text="Internal Server Error")
        if path == "/hang":
            assert self._closing is not None
            await self._closing.wait()
            return web.Response(status=503)
        if path == "/endless":
            return await self._endless(request)
        return web.Response(status=404, text="Not Found")

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        assert self._closing is not None
        with contextlib.suppress(ConnectionError):  # the client went away: that is the end
            while not self._closing.is_set():
                await response.write(_CHUNK)
                self.endless_bytes_sent += len(_CHUNK)
                await asyncio.sleep(0)
        return response
