"""Requests signed like Slack's, and the ids the tests' Slack workspace is set up with."""

from __future__ import annotations

__all__ = ["INCIDENTS_CHANNEL", "SIGNING_SECRET", "sign"]

import hashlib
import hmac
import time

SIGNING_SECRET = "test-signing-secret"
INCIDENTS_CHANNEL = "C01INCIDNT"


def sign(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}
