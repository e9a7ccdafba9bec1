"""`GET /incidents/{n}/postmortem.md`: a postmortem opened by its signed, expiring link."""

from __future__ import annotations

__all__ = ["PostmortemLink"]

from aiohttp import web

from bot.postmortem.export import postmortem_json, postmortem_markdown
from bot.postmortem.links import check_link
from bot.postmortem.service import PostmortemService
from bot.types import Clock


class PostmortemLink:
    def __init__(self, postmortems: PostmortemService, secret: bytes | None, clock: Clock) -> None:
        self._postmortems = postmortems
        self._secret = secret  # None: links are off
        self._clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [web.get(r"/incidents/{number:\d{1,9}}/postmortem.md", self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        if self._secret is None:
            return web.json_response({"error": "postmortem links are not set up"}, status=404)
        refused = check_link(
            number,
            request.query.get("expires"),
            request.query.get("sig"),
            self._secret,
            self._clock().timestamp(),
        )
        if refused:
            return web.json_response({"error": refused}, status=403)
        data = await self._postmortems.gather(number)
        if data is None:
            return web.json_response({"error": f"there is no incident #{number}"}, status=404)
        if request.query.get("format") == "json":
            return web.Response(text=postmortem_json(data), content_type="application/json")
        return web.Response(text=postmortem_markdown(data), content_type="text/markdown")
