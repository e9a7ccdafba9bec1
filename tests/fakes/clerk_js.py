"""A stand-in for ClerkJS on 127.0.0.1: the `window.Clerk` surface the admin shell uses
(`load()`, `user`, `session.getToken()`, `mountSignIn(el)`), handing the page a session
token the test minted. `token = None` is a signed-out browser."""

from __future__ import annotations

__all__ = ["FakeClerkJS"]

import json
from collections.abc import Callable

from aiohttp import web

from tests.fakes.local_server import LocalServer

_SCRIPT = """
(function () {
  var token = %(token)s;
  var signedIn = token !== null;
  window.__clerkFake = { tokensHanded: 0, signInMounted: false };
  window.Clerk = {
    loaded: false,
    load: function () { this.loaded = true; return Promise.resolve(); },
    user: signedIn ? { id: "user_alice",
      primaryEmailAddress: { emailAddress: "alice@lucia.test" } } : null,
    session: signedIn ? { id: "sess_alice", getToken: function () {
      window.__clerkFake.tokensHanded += 1; return Promise.resolve(token); } } : null,
    mountSignIn: function (el) {
      window.__clerkFake.signInMounted = true;
      var box = document.createElement("div");
      box.id = "fake-clerk-sign-in";
      box.textContent = "Sign in to Lucia (Clerk stand-in)";
      el.appendChild(box);
    }
  };
})();
"""


class FakeClerkJS(LocalServer):
    def __init__(self) -> None:
        super().__init__()
        self.mint: Callable[[], str] | None = None  # None: signed out
        self.served = 0

    @property
    def script_url(self) -> str:
        return f"{self.base}/npm/@clerk/clerk-js@5/dist/clerk.browser.js"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/npm/@clerk/clerk-js@5/dist/clerk.browser.js", self._script)

    async def _script(self, _request: web.Request) -> web.Response:
        self.served += 1
        token = json.dumps(self.mint() if self.mint is not None else None)
        # The shell loads it `crossorigin="anonymous"`, as Clerk's snippet does: CORS applies.
        return web.Response(
            text=_SCRIPT % {"token": token},
            content_type="text/javascript",
            headers={"Access-Control-Allow-Origin": "*"},
        )
