"""Sentry alerts as the tests send them (one issue per number, a fatal one in production),
the routing rules the alert tests share, and a quick alerts channel to watch."""

from __future__ import annotations

__all__ = ["ALERTS", "FAST", "ROUTES", "fatal_alert", "issue_alert", "shown"]

import json
from datetime import timedelta

from bot.config import AlertMatch, AlertRoute, AlertsConfig, LuciaConfig
from bot.vocabulary import Role, Severity
from tests.drivers.payloads import sentry_fixture
from tests.drivers.waiting import until_true
from tests.fakes.slack_api import FakeChannel

ALERTS = "C01ALERTS0"
FAST = LuciaConfig(
    alerts=AlertsConfig(group_wait=timedelta(seconds=0.5), update_interval=timedelta(seconds=0.5))
)

ROUTES = [
    AlertRoute(
        match=AlertMatch(level=["fatal"], environment=["production"]),
        action="incident",
        severity=Severity.SEV1,
        page=[Role.INFRA, Role.OWNER],
    ),
    AlertRoute(match=AlertMatch(project=["admin"]), action="post"),
]


def issue_alert(issue: int, project: str = "front-end") -> bytes:
    payload = json.loads(sentry_fixture("event_alert.triggered.json"))
    payload["data"]["event"]["issue_id"] = str(issue)
    payload["data"]["event"]["title"] = f"TypeError number {issue}"
    payload["data"]["event"]["url"] = payload["data"]["event"]["url"].replace(
        "/front-end/", f"/{project}/"
    )
    return json.dumps(payload).encode()


def fatal_alert(issue: str = "777", level: str = "fatal") -> bytes:
    payload = json.loads(sentry_fixture("event_alert.triggered.json"))
    payload["data"]["event"] |= {
        "issue_id": issue,
        "level": level,
        "environment": "production",
        "title": "Checkout crashes on submit",
    }
    return json.dumps(payload).encode()


async def shown(channel: FakeChannel, text: str, limit: float = 10.0) -> None:
    """Wait until a message in the channel shows `text`."""
    await until_true(
        lambda: any(text in json.dumps(m, ensure_ascii=False) for m in channel.messages), limit
    )
