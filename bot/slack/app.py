"""The Bolt app: client, request verification, Events API retry dedupe, listeners."""

from __future__ import annotations

__all__ = ["build_bolt_app", "build_web_client"]

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import log_messages as msg
from bot.errors import DedupeUnavailable
from bot.settings import Settings
from bot.slack.dispatch import SlackDeps
from bot.slack.identity import SlackIdentity
from bot.slack.listeners import (
    actions,
    commands,
    events,
    gate,
    notices,
    pages,
    pins,
    status,
    views,
)

log = logging.getLogger(__name__)

EVENT_DEDUPE_SECONDS = 3600  # Slack's last retry comes about 6 minutes after the first try


def build_web_client(settings: Settings) -> AsyncWebClient:
    assert settings.slack_bot_token is not None
    return _configured(AsyncWebClient(token=settings.slack_bot_token.get_secret_value()), settings)


def _configured(client: AsyncWebClient, settings: Settings) -> AsyncWebClient:
    client.base_url = settings.slack_api_url
    client.timeout = 10
    client.retry_handlers = [
        AsyncConnectionErrorRetryHandler(max_retry_count=1),
        # Sleeps Retry-After (plus jitter) and tries again: a 429 delays, never drops.
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
    ]
    return client


def build_bolt_app(settings: Settings, deps: SlackDeps, identity: SlackIdentity) -> AsyncApp:
    assert settings.slack_bot_token is not None
    secret = settings.slack_signing_secret
    app = AsyncApp(
        # The token, not a client: Bolt also reads SLACK_BOT_TOKEN from the environment and
        # warns at every start that a client given beside it wins. Its client is set up
        # like ours below.
        token=settings.slack_bot_token.get_secret_value(),
        signing_secret=secret.get_secret_value() if secret else None,
        # Socket Mode needs no signature; over HTTP every request is verified.
        request_verification_enabled=secret is not None,
        # Before Bolt's own auth.test: an unreachable Slack gets a plain answer, not a 500.
        before_authorize=identity.gate(),
        # Listeners ack, hand slow work to BackgroundTasks and return at once; Bolt then
        # answers after the listener, so it keeps no task of its own that shutdown can't see.
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )
    _configured(app.client, settings)
    app.middleware(_drop_event_retries(deps))

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error(
            msg.SLACK_LISTENER_FAILED,
            exc_info=error,
            extra={"type": body.get("type"), "command": body.get("command")},
        )

    for surface in (commands, actions, notices, pages, gate, status, views, events, pins):
        surface.register(app, deps)
    return app


def _drop_event_retries(deps: SlackDeps) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Slack redelivers an event it thinks failed; its event_id stays the same."""

    async def middleware(
        body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            try:
                first = await deps.dedupe.claim(f"slack-event:{event_id}", EVENT_DEDUPE_SECONDS)
            except DedupeUnavailable as exc:
                log.warning(msg.EVENT_DEDUPE_UNAVAILABLE, extra={"error": str(exc)})
                first = True  # handling an event twice beats dropping it
            if not first:
                log.info(msg.SLACK_EVENT_RETRY_DROPPED, extra={"event_id": event_id})
                return BoltResponse(status=200, body="")
        return await next()

    return middleware
