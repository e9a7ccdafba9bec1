"""Sentry webhooks as Sentry sends them (signed, open loop at a fixed rate, a 1 s budget
per delivery and no retry), and a ledger of what each one was answered."""

from __future__ import annotations

__all__ = [
    "SECRET",
    "Answer",
    "Ledger",
    "Webhook",
    "firing",
    "flood",
    "resolved",
    "send",
    "signed",
]

import asyncio
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import aiohttp

from tests.drivers.payloads import sentry_fixture

SECRET = "fault-suite-sentry-client-secret"
BUDGET = 1.0  # seconds: Sentry gives up on a webhook after this, and never retries


def signed(body: bytes, resource: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Sentry-Hook-Resource": resource,
        "Sentry-Hook-Signature": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
        "Sentry-Hook-Timestamp": str(int(time.time())),
    }


@dataclass(frozen=True)
class Webhook:
    key: str  # the alert group key the bot files it under
    body: bytes
    resource: str
    firing: bool  # counts on its group (a resolve doesn't)
    title: str = ""


_ALERT = json.loads(sentry_fixture("event_alert.triggered.json"))
_RESOLVED = json.loads(sentry_fixture("issue.resolved.json"))


def firing(
    issue: int | str,
    *,
    project: str = "checkout",
    level: str = "error",
    environment: str = "staging",
    title: str | None = None,
) -> Webhook:
    """An `event_alert` of Sentry issue `issue` (`project` names the alert message)."""
    payload = json.loads(json.dumps(_ALERT))
    event = payload["data"]["event"]
    event |= {
        "issue_id": str(issue),
        "level": level,
        "environment": environment,
        "title": title or f"TypeError in {project} step {issue}",
        "url": f"https://sentry.io/api/0/projects/lucia/{project}/events/{event['event_id']}/",
    }
    event["web_url"] = f"https://sentry.io/organizations/lucia/issues/{issue}/"
    event["issue_url"] = f"https://sentry.io/api/0/issues/{issue}/"
    return Webhook(
        f"sentry:issue:{issue}", json.dumps(payload).encode(), "event_alert", True, event["title"]
    )


def resolved(issue: int | str) -> Webhook:
    payload = json.loads(json.dumps(_RESOLVED))
    payload["data"]["issue"]["id"] = str(issue)
    return Webhook(f"sentry:issue:{issue}", json.dumps(payload).encode(), "issue", False)


@dataclass(frozen=True)
class Answer:
    webhook: Webhook
    status: int  # 0: no HTTP answer (connection refused or reset, or the client gave up)
    seconds: float
    body: str
    sent_at: float  # time.monotonic()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Ledger:
    """Every webhook sent and what it was answered, in the order sent."""

    answers: list[Answer] = field(default_factory=list)

    def __iadd__(self, other: Ledger) -> Ledger:
        self.answers += other.answers
        return self

    @property
    def keys(self) -> set[str]:
        return {a.webhook.key for a in self.answers}

    def sent(self, key: str) -> int:
        return sum(a.webhook.firing for a in self.answers if a.webhook.key == key)

    def answered_2xx(self, key: str) -> int:
        return sum(a.webhook.firing and a.ok for a in self.answers if a.webhook.key == key)

    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    def slow(self, limit: float = BUDGET) -> list[Answer]:
        return [a for a in self.answers if a.seconds > limit]

    def summary(self) -> str:
        slow = self.slow()
        worst = max((a.seconds for a in self.answers), default=0.0)
        return (
            f"{len(self.answers)} webhooks, statuses {dict(sorted(self.statuses().items()))}, "
            f"{len(slow)} answered after {BUDGET} s (slowest {worst:.2f} s)"
        )


async def send(http: aiohttp.ClientSession, base: str, webhook: Webhook) -> Answer:
    """One delivery. The client waits up to 10 s, longer than Sentry, so a slow answer is
    measured rather than cut off; `Ledger.slow` says which missed Sentry's 1 s."""
    started = time.monotonic()
    try:
        async with http.post(
            f"{base}/webhooks/sentry",
            data=webhook.body,
            headers=signed(webhook.body, webhook.resource),
            timeout=aiohttp.ClientTimeout(total=10),
        ) as response:
            text = await response.text()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        text, status = f"{type(exc).__name__}: {exc}", 0
    return Answer(webhook, status, time.monotonic() - started, text, started)


async def flood(
    base: str | Sequence[str],
    webhooks: Sequence[Webhook],
    rate: float,
    *,
    until: asyncio.Event | None = None,
    tail: float = 0.0,
) -> Ledger:
    """Open loop, as Sentry sends: one webhook every 1/rate s whether or not the last was
    answered. With several bases the webhooks go round-robin (two instances behind one
    load balancer). With `until`, the flood goes on (the second half of `webhooks` again:
    repeats) until `tail` seconds after it is set, however slow the machine is today."""
    bases = [base] if isinstance(base, str) else list(base)
    connector = aiohttp.TCPConnector(limit=500)
    async with aiohttp.ClientSession(connector=connector) as http:
        began = time.monotonic()
        tasks: list[asyncio.Task[Answer]] = []
        ended_at: float | None = None
        for i, webhook in enumerate(_go_on(webhooks, until)):
            await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
            if until is not None and until.is_set():
                ended_at = ended_at or time.monotonic()
                if i >= len(webhooks) and time.monotonic() > ended_at + tail:
                    break
            tasks.append(asyncio.create_task(send(http, bases[i % len(bases)], webhook)))
        return Ledger(list(await asyncio.gather(*tasks)))


def _go_on(webhooks: Sequence[Webhook], until: asyncio.Event | None) -> Iterator[Webhook]:
    yield from webhooks
    if until is None or not webhooks:
        return
    again = webhooks[len(webhooks) // 2 :]
    while True:
        yield from again


def mixed(issues: Sequence[int], repeats: int, **alert: str) -> list[Webhook]:
    """Each issue's first alert, then `repeats` more of each, interleaved: new groups
    early, then mostly duplicates — what a Sentry flood looks like."""
    firsts = [firing(i, **alert) for i in issues]
    rest = [firing(i, **alert) for _ in range(repeats) for i in issues]
    return firsts + rest


__all__ += ["BUDGET", "mixed"]
