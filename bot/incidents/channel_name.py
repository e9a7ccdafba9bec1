"""Incident channel names that Slack accepts: `inc-<number>-<slug>`, lowercase,
`[a-z0-9_-]`, at most 80 characters."""

from __future__ import annotations

__all__ = ["MAX_CHANNEL_NAME", "channel_name"]

import re
import unicodedata

MAX_CHANNEL_NAME = 80


def channel_name(number: int, title: str, attempt: int = 1) -> str:
    """The name to try on the given attempt; attempt 2 onwards carries a `-2`, `-3`… suffix."""
    prefix = f"inc-{number}"
    suffix = f"-{attempt}" if attempt > 1 else ""
    room = MAX_CHANNEL_NAME - len(prefix) - len(suffix) - 1
    slug = _slug(title)[:room].strip("-")
    return f"{prefix}-{slug}{suffix}" if slug else f"{prefix}{suffix}"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
