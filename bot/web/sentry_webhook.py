"""`POST /webhooks/sentry`: verify, keep, answer — inside Sentry's 1 s (a slow Redis is
given 250 ms, then skipped; a database that hasn't committed by 0.8 s gets a 503).

Sentry never retries an internal integration, so an alert that isn't kept the first time
is gone: the delivery is committed to the inbox before the 2xx, and read afterwards.
"""

from __future__ import annotations

__all__ = ["SentryWebhook"]

import asyncio
import hmac
import logging
import time

import orjson
from aiohttp import web
from pydantic import SecretStr

from bot import log_messages as msg
from bot.alerts.service import AlertService
from bot.background import SingleFlight, Soon
from bot.errors import StoreUnavailable
from bot.sentry.payloads import repeat_key
from bot.sentry.signature import check_delivery

log = logging.getLogger(__name__)

LEGACY_KIND = "legacy_plugin"
ANSWER_WITHIN = 0.8  # seconds: Sentry waits 1 s, and the answer has to travel back


class SentryWebhook:
    def __init__(
        self,
        alerts: AlertService,
        reader: SingleFlight,
        folder: Soon,
        *,
        client_secret: SecretStr | None,
        legacy_token: SecretStr | None,
        max_body: int,
    ) -> None:
        self._max_body = max_body
        self._secret = client_secret
        self._token = legacy_token
        self._alerts = alerts
        self._reader = reader  # reads kept deliveries into groups
        self._folder = folder  # moves repeats counted in Redis onto their groups

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/webhooks/sentry", self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        started = asyncio.get_running_loop().time()
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _refuse(413, f"body over the {self._max_body:,}-byte limit")
        if "token" in request.query:
            source, kind = "sentry-legacy", LEGACY_KIND
            refused = self._check_token(request.query["token"])
        else:
            source, kind = "sentry", request.headers.get("Sentry-Hook-Resource", "").strip()
            refused = self._check_signature(request, body)
        if refused is not None:
            return refused
        try:
            payload = orjson.loads(body)
        except ValueError as exc:
            return _refuse(400, f"body is not valid JSON: {exc}")
        if not isinstance(payload, dict):
            return _refuse(400, "body is not a JSON object")
        kind = kind or "unknown"
        try:
            async with asyncio.timeout_at(started + ANSWER_WITHIN):
                delivery = await self._alerts.keep(source, kind, body, repeat_key(kind, payload))
        except StoreUnavailable:
            # Not kept, so not acknowledged: a 503 at least shows in Sentry's request log.
            return _refuse(503, "the alert could not be stored; the database is unreachable")
        except TimeoutError:
            # Sentry gives up after 1 s and records a timeout either way; a 503 in time says
            # what happened (the commit goes on, so it may yet be kept).
            return _refuse(
                503, f"the alert could not be stored within {ANSWER_WITHIN} s; the database is slow"
            )
        if delivery is None:
            self._folder.poke()
            return web.json_response({"counted": True})  # a repeat of a firing alert
        self._reader.kick()
        return web.json_response({"accepted": delivery})

    def _check_signature(self, request: web.Request, body: bytes) -> web.Response | None:
        if self._secret is None:
            return _refuse(
                503,
                "Sentry webhooks aren't set up on this bot: set SENTRY_CLIENT_SECRET to the "
                "internal integration's Client Secret (or, for the legacy WebHooks plugin, "
                "SENTRY_WEBHOOK_TOKEN and post to /webhooks/sentry?token=…)",
            )
        reason = check_delivery(
            body,
            request.headers.get("Sentry-Hook-Signature"),
            request.headers.get("Sentry-Hook-Timestamp"),
            self._secret.get_secret_value(),
            time.time(),
        )
        return _refuse(401, reason) if reason else None

    def _check_token(self, given: str) -> web.Response | None:
        if self._token is None:
            return _refuse(401, "legacy webhooks are off (SENTRY_WEBHOOK_TOKEN is not set)")
        if not hmac.compare_digest(given.encode(), self._token.get_secret_value().encode()):
            return _refuse(401, "wrong token")
        return None


def _refuse(status: int, reason: str) -> web.Response:
    log.warning(msg.SENTRY_WEBHOOK_REFUSED, extra={"status": status, "reason": reason})
    return web.json_response({"error": reason}, status=status)
