"""The bot's own errors and traces, to Sentry when `SENTRY_DSN` is set."""

from __future__ import annotations

__all__ = ["init_sentry", "scrub"]

import json

import sentry_sdk
from sentry_sdk.integrations.aiohttp import AioHttpIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber
from sentry_sdk.types import Event, Hint

from bot import __version__
from bot.secret_shapes import SECRET_SHAPES
from bot.settings import Settings


def scrub(event: Event, _hint: Hint) -> Event:
    request = event.get("request")
    if isinstance(request, dict):  # the legacy Sentry webhook carries its token there
        request.pop("query_string", None)
    scrubbed: Event = json.loads(SECRET_SHAPES.sub("[Filtered]", json.dumps(event, default=str)))
    return scrubbed


def init_sentry(settings: Settings) -> bool:
    if not settings.sentry_dsn:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.sentry_environment or "production",
        # Sentry doesn't read Render's variable by itself.
        release=settings.render_git_commit or f"lucia-bot@{__version__}",
        integrations=[AioHttpIntegration(transaction_style="method_and_path_pattern")],
        send_default_pii=False,
        max_request_body_size="never",  # Slack bodies carry response_url, a bearer secret
        include_local_variables=False,
        event_scrubber=EventScrubber(
            denylist=[
                *DEFAULT_DENYLIST,
                "x-slack-signature",
                "sentry-hook-signature",
                "slack_bot_token",
                "slack_signing_secret",
                "render_api_key",
            ]
        ),
        before_send=scrub,
        before_send_transaction=scrub,
        traces_sample_rate=0.1,
    )
    return True
