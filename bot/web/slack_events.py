"""`POST /slack/events`: Slack's requests, handed to the Bolt app (which verifies them)."""

from __future__ import annotations

__all__ = ["SlackEvents"]

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.settings import SlackMode


class SlackEvents:
    def __init__(self, bolt: AsyncApp | None, mode: SlackMode) -> None:
        self._bolt = bolt  # None when Slack is off
        self._mode = mode

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/slack/events", self.handle)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self._bolt is None or self._mode is not SlackMode.HTTP:
            reason = (
                "this bot receives Slack over Socket Mode (SLACK_APP_TOKEN is set)"
                if self._mode is SlackMode.SOCKET
                else "Slack is not configured on this bot "
                "(set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET)"
            )
            return web.json_response({"error": reason}, status=503)
        bolt_response = await self._bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)
