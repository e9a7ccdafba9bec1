"""Is this delivery from Sentry? HMAC-SHA256 over the raw body, and a fresh timestamp."""

from __future__ import annotations

__all__ = ["MAX_SKEW_SECONDS", "check_delivery"]

import hmac

MAX_SKEW_SECONDS = 300


def check_delivery(
    body: bytes, signature: str | None, timestamp: str | None, secret: str, now: float
) -> str | None:
    """None when the delivery is genuine and fresh; otherwise why it is refused."""
    if not signature:
        return "missing Sentry-Hook-Signature"
    expected = hmac.digest(secret.encode(), body, "sha256").hex().encode()
    given = signature.strip().lower().encode("ascii", "replace")
    if not hmac.compare_digest(expected, given):
        return "signature does not match the body"
    # The timestamp isn't signed, but a replayed body with a stale one is still refused.
    if not timestamp or not timestamp.strip().isdigit():
        return "missing or unreadable Sentry-Hook-Timestamp"
    sent = int(timestamp.strip())
    if abs(now - sent) > MAX_SKEW_SECONDS:
        return f"Sentry-Hook-Timestamp is {int(now - sent)} s away from now"
    return None
