"""How long an API asks a client to wait: `Retry-After` (seconds or an HTTP date), else its
reset header — Render's `Ratelimit-Reset` (seconds to go, or the UTC epoch its docs also
describe), Supabase's `x-ratelimit-reset` (seconds to go)."""

from __future__ import annotations

__all__ = ["rate_limit_wait", "retry_after"]

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_EPOCH_THRESHOLD = 1e9  # a Ratelimit-Reset above this is a UTC epoch, not seconds-to-go


def retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def rate_limit_wait(
    headers: Mapping[str, str], *, reset_header: str = "Ratelimit-Reset"
) -> float | None:
    """Seconds the API asks us to wait: Retry-After, else `reset_header` (either meaning)."""
    advised = retry_after(headers)
    if advised is not None:
        return advised
    try:
        reset = float(headers.get(reset_header, ""))
    except ValueError:
        return None
    if reset > _EPOCH_THRESHOLD:  # the docs' "UTC epoch seconds"
        reset -= time.time()
    return max(0.0, reset)
