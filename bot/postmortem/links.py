"""Signed, expiring links to a postmortem: `…/incidents/N/postmortem.md?expires=T&sig=S`,
S = HMAC-SHA256(secret, "N:T"). Never open to the world: no valid signature, no postmortem."""

from __future__ import annotations

__all__ = ["check_link", "link_query"]

import hashlib
import hmac
import re

_EXPIRES = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def _signature(number: int, expires: int, secret: bytes) -> str:
    return hmac.new(secret, f"{number}:{expires}".encode(), hashlib.sha256).hexdigest()


def link_query(number: int, expires: int, secret: bytes) -> str:
    return f"expires={expires}&sig={_signature(number, expires, secret)}"


def check_link(
    number: int, expires: str | None, signature: str | None, secret: bytes, now: float
) -> str | None:
    """None when the link is genuine and not expired; otherwise why it is refused."""
    if not expires or not signature:
        return "this link is not signed: ask the bot for a new one with /lucia postmortem"
    if not _EXPIRES.fullmatch(expires) or not _SIGNATURE.fullmatch(signature):
        return "this link's signature is wrong"
    expected = _signature(number, int(expires), secret)
    if not hmac.compare_digest(expected, signature):
        return "this link's signature is wrong"
    if int(expires) < now:
        return "this link has expired: ask the bot for a new one with /lucia postmortem"
    return None
