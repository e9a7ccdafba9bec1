"""Webhooks signed like Sentry's, delivered to the running bot's `/webhooks/sentry`."""

from __future__ import annotations

__all__ = ["SECRET", "TOKEN", "deliver", "signed"]

import hashlib
import hmac
import time

from aiohttp import ClientResponse

from tests.drivers.bot import Bot

SECRET = "sentry-client-secret-for-tests"
TOKEN = "legacy-token-0123456789"


def signed(body: bytes, *, secret: str = SECRET, age: int = 0) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Sentry-Hook-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "Sentry-Hook-Timestamp": str(int(time.time()) - age),
    }


async def deliver(bot: Bot, body: bytes, resource: str, **headers: str) -> ClientResponse:
    sent = signed(body) | {"Sentry-Hook-Resource": resource} | headers
    return await bot.client.post("/webhooks/sentry", data=body, headers=sent)
