"""Shapes of secrets that may end up in messages, settings or config despite our care."""

from __future__ import annotations

__all__ = ["SECRET_SHAPES", "looks_secret"]

import re

SECRET_SHAPES = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|rnd_[A-Za-z0-9]+|tk_[A-Za-z0-9]+"
    r"|Bearer\s+[A-Za-z0-9._~+/-]+=*|hooks\.slack\.com/[^\s\"']+|v0=[0-9a-f]{64}"
    r"|(?<=://)[^:/@\s]+:[^@\s]+(?=@)|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|sk_(?:live|test)_[A-Za-z0-9]+|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}"
)


def looks_secret(text: str) -> bool:
    return SECRET_SHAPES.search(text) is not None
