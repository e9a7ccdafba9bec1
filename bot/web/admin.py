"""`GET /admin`: the admin view's static HTML shell. It holds no data: ClerkJS signs the
person in, then `admin.js` reads everything from `/admin/api/*` (`bot.web.admin_api`)
with the session token as a Bearer header. Without Clerk configured, the page says the
view is off and how to turn it on."""

from __future__ import annotations

__all__ = ["AdminView", "ClerkFront", "security_headers"]

import html
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

from aiohttp import web

from bot.admission import AdmissionCheck
from bot.web.admin_api import AdminApi, AdminSources

_STATIC = resources.files("bot.web") / "admin_static"
_ASSETS = {"admin.js": "text/javascript", "admin.css": "text/css"}


@dataclass(frozen=True)
class ClerkFront:
    """What the browser needs to load ClerkJS: no secret among it."""

    publishable_key: str
    frontend_api: str  # the Frontend API host the key names (`clerk.<domain>`)
    script_url: str | None = None  # CLERK_JS_URL; else ClerkJS 5 from the Frontend API

    @property
    def script(self) -> str:
        return (
            self.script_url
            or f"https://{self.frontend_api}/npm/@clerk/clerk-js@5/dist/clerk.browser.js"
        )

    @property
    def origins(self) -> tuple[str, ...]:
        """Where ClerkJS comes from and talks to: the Frontend API (and CLERK_JS_URL's)."""
        found = [f"https://{self.frontend_api}"]
        parts = urlsplit(self.script)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in found:
            found.append(origin)
        return tuple(found)


def security_headers(clerk_origins: tuple[str, ...]) -> dict[str, str]:
    """Only the bot's own origin and Clerk's Frontend API: no inline script anywhere."""
    clerk = " ".join(clerk_origins)
    policy = "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {clerk}",
            f"connect-src 'self' {clerk}",
            f"frame-src 'self' {clerk}",
            f"img-src 'self' {clerk} data:",
            # Clerk's components inject their own <style>: nothing else may.
            "style-src 'self' 'unsafe-inline'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


class AdminView:
    def __init__(
        self,
        clerk: ClerkFront | None,
        check: AdmissionCheck | None,
        sources: AdminSources | None,
    ) -> None:
        self._clerk = clerk if check is not None else None  # None: the view is off
        self._headers = security_headers(clerk.origins if clerk else ())
        self._api = AdminApi(sources, check if clerk else None, self._headers)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/admin", self.shell),
            web.get("/admin/", self.shell),
            web.get(r"/admin/static/{name:[a-z]+\.(js|css)}", self.asset),
            *self._api.routes(),
        ]

    async def shell(self, _request: web.Request) -> web.Response:
        if self._clerk is None:
            page = (_STATIC / "off.html").read_text()
        else:
            page = (
                (_STATIC / "index.html")
                .read_text()
                .replace("{{publishable_key}}", html.escape(self._clerk.publishable_key))
                .replace("{{clerk_js_url}}", html.escape(self._clerk.script))
            )
        return self._secured(web.Response(text=page, content_type="text/html"), "no-cache")

    async def asset(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _ASSETS:
            raise web.HTTPNotFound()
        body = (_STATIC / name).read_text()
        return self._secured(web.Response(text=body, content_type=_ASSETS[name]), "no-cache")

    def _secured(self, response: web.Response, cache: str) -> web.Response:
        response.headers.update(self._headers)
        response.headers["Cache-Control"] = cache
        return response
