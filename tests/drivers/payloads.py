"""The recorded Slack and Sentry payloads, and Supabase's answers, in shared/fixtures."""

from __future__ import annotations

__all__ = ["FIXTURES", "sentry_fixture", "slack_fixture", "supabase_fixture"]

import json
from pathlib import Path
from typing import Any

# shared/ sits beside the checkout, here and in CI.
FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures"


def slack_fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / "slack" / name).read_text())
    return loaded


def sentry_fixture(name: str) -> bytes:
    """The raw bytes, as Sentry would sign and send them."""
    return (FIXTURES / "sentry" / name).read_bytes()


def supabase_fixture(name: str) -> dict[str, Any]:
    """The body Supabase answered (of a recorded response, its `body`)."""
    data: dict[str, Any] = json.loads((FIXTURES / "supabase" / name).read_text())
    recorded = {"status", "headers", "body"} <= data.keys()
    return dict(data["body"]) if recorded else data
