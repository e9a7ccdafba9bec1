"""The recorded Slack and Sentry payloads in shared/fixtures."""

from __future__ import annotations

__all__ = ["FIXTURES", "sentry_fixture", "slack_fixture"]

import json
from pathlib import Path
from typing import Any

# shared/ sits beside the checkout, here and in CI.
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


def slack_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "slack" / name).read_text())


def sentry_fixture(name: str) -> bytes:
    """The raw bytes, as Sentry would sign and send them."""
    return (FIXTURES / "sentry" / name).read_bytes()
