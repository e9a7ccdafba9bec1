"""Whether Slack accepts the bot's token, known from `auth.test`: at start (a refused token
stops `serve` with a clear error instead of answering every command with Bolt's
"reinstall" text), for `/readyz`, and before Bolt authorizes a request, so an unreachable
Slack gets a plain answer rather than an empty 500.

Asked again only when someone asks and the last answer is old: nothing polls Slack.
"""

from __future__ import annotations

__all__ = ["SlackIdentity", "TokenStatus"]

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import log_messages as msg
from bot.errors import ConfigError, ConfigProblem

log = logging.getLogger(__name__)

# auth.test errors that mean the token itself is no good, not that Slack is having trouble.
REFUSED = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
}
CHECK_TIMEOUT = 5.0
RECHECK_AFTER_OK = 300.0  # seconds: a token revoked later shows on /readyz within this
RECHECK_AFTER_FAILURE = 15.0


class TokenStatus(enum.StrEnum):
    UNKNOWN = "unknown"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class _Checked:
    status: TokenStatus
    detail: str  # Slack's error code, or what failed on the way there
    at: float


class SlackIdentity:
    def __init__(self, client: AsyncWebClient, clock: Callable[[], float] = time.monotonic):
        self._client = client
        self._clock = clock
        self._last = _Checked(TokenStatus.UNKNOWN, "not asked yet", float("-inf"))
        self._asking: asyncio.Lock = asyncio.Lock()

    async def check_at_start(self) -> None:
        """Raise `ConfigError` for a token Slack refuses; an unreachable Slack is logged and
        shows on /readyz, and the bot starts (Slack may be back before anyone types)."""
        checked = await self._ask()
        if checked.status is TokenStatus.REFUSED:
            raise ConfigError(
                [
                    ConfigProblem(
                        "env SLACK_BOT_TOKEN",
                        f"Slack refuses this token ({checked.detail}): copy the Bot User OAuth "
                        "Token (xoxb-…) from the app's OAuth & Permissions page, and reinstall "
                        "the app if it was uninstalled",
                    )
                ]
            )
        if checked.status is TokenStatus.UNREACHABLE:
            log.warning(msg.SLACK_UNREACHABLE_AT_START, extra={"error": checked.detail})

    async def readiness(self) -> str:
        """For /readyz: "ok", or "down: …" saying why."""
        checked = await self._fresh()
        if checked.status is TokenStatus.ACCEPTED:
            return "ok"
        if checked.status is TokenStatus.REFUSED:
            return f"down: Slack refuses SLACK_BOT_TOKEN ({checked.detail})"
        return f"down: Slack's API is unreachable ({checked.detail})"

    def gate(self) -> Callable[..., Awaitable[BoltResponse | None]]:
        """Bolt middleware run before authorization."""

        async def before_authorize(
            body: dict[str, Any], next: Callable[[], Awaitable[BoltResponse]]
        ) -> BoltResponse | None:
            if body.get("type") == "url_verification" or body.get("ssl_check"):
                return await next()  # Slack checking the URL: answered without the token
            checked = await self._fresh()
            if checked.status is TokenStatus.ACCEPTED:
                return await next()
            log.warning(
                msg.SLACK_REQUEST_NOT_AUTHORIZED,
                extra={"status": checked.status.value, "error": checked.detail},
            )
            if "command" not in body:  # events and clicks: Slack shows nothing of a body
                return BoltResponse(status=200, body="")
            text = (
                "⚠️ Slack refuses this bot's token, so I can't act on that: an admin must set "
                f"a valid SLACK_BOT_TOKEN ({checked.detail})."
                if checked.status is TokenStatus.REFUSED
                else "⚠️ I can't reach Slack's API right now, so I can't act on that: try "
                "again in a minute (the bot's /readyz says what is down)."
            )
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})

        return before_authorize

    async def _fresh(self) -> _Checked:
        last = self._last
        limit = RECHECK_AFTER_OK if last.status is TokenStatus.ACCEPTED else RECHECK_AFTER_FAILURE
        if self._clock() - last.at < limit:
            return last
        return await self._ask()

    async def _ask(self) -> _Checked:
        async with self._asking:  # a burst of requests asks Slack once
            if self._clock() - self._last.at < 1.0:
                return self._last
            try:
                async with asyncio.timeout(CHECK_TIMEOUT):
                    await self._client.auth_test()
                checked = _Checked(TokenStatus.ACCEPTED, "", self._clock())
            except SlackApiError as exc:
                code = str(exc.response.get("error", "unknown_error"))
                status = TokenStatus.REFUSED if code in REFUSED else TokenStatus.UNREACHABLE
                checked = _Checked(status, code, self._clock())
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                checked = _Checked(
                    TokenStatus.UNREACHABLE, type(exc).__name__ or "timeout", self._clock()
                )
            self._last = checked
            return checked
