"""From a critical Sentry webhook to the first page: Slack DM, e-mail and push.

Starts `lucia-bot serve` (real PostgreSQL and Redis on 127.0.0.1) with the local Slack,
a real SMTP server (aiosmtpd) and a local ntfy server, then sends `--incidents` signed
`event_alert` webhooks for distinct fatal production issues (a routing rule opens a SEV1
and pages `infra`) at `--rate` per second, and prints p50/p95/max of the time from each
webhook's POST to its DM, its e-mail and its push arriving. Target: p95 under 1 s.

    .venv/bin/python bench/paging.py --incidents 100 --rate 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
from pathlib import Path

import aiohttp
from _harness import percentile, serving
from alert_flood import POSTGRES_URL, _reset_database, _reset_redis

from tests.drivers.payloads import sentry_fixture
from tests.drivers.sentry import SECRET, signed
from tests.drivers.services import REDIS_URL
from tests.fakes.ntfy import FakeNtfy
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.smtp import Mailbox, smtp_server

BOB = "U01BOBBY00"
CONFIG = """
owners:
  infra: {name: Bob Infra, slack: U01BOBBY00, email: bob@lucia.example, push_topic: bob-93}
  fallback: {name: Dan Fallback, email: dan@lucia.example}
paging:
  throttle: 0s            # every incident pages Bob: the bench measures each one
routing:
  - match: {level: [fatal], environment: [production]}
    action: incident
    severity: sev1
    page: [infra]
escalation:
  sev1:
    steps:
      - {roles: [infra], wait: 10m}
"""
ISSUE = re.compile(r"Checkout crash #(\d+)")


def _alert(i: int) -> bytes:
    payload = json.loads(sentry_fixture("event_alert.triggered.json"))
    payload["data"]["event"] |= {
        "issue_id": str(500_000 + i),
        "level": "fatal",
        "environment": "production",
        "title": f"Checkout crash #{i}",
    }
    return json.dumps(payload).encode()


def _first(times: dict[int, float], index: int, at: float) -> None:
    times.setdefault(index, at)


async def run(count: int, rate: float) -> None:
    await _reset_database()
    await _reset_redis()
    mailbox = Mailbox()
    with smtp_server(mailbox) as smtp_port, tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "lucia.yaml").write_text(CONFIG)
        async with FakeSlackAPI() as slack, FakeNtfy() as ntfy:
            env = {
                "DATABASE_URL": POSTGRES_URL,
                "REDIS_URL": REDIS_URL,
                "SENTRY_CLIENT_SECRET": SECRET,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": slack.url,
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp_port),
                "SMTP_FROM": "oncall@lucia.example",
                "SMTP_TLS": "none",
                "NTFY_URL": ntfy.url,
            }
            sent: dict[int, float] = {}
            async with serving(env, cwd=Path(tmp)) as base, aiohttp.ClientSession() as http:
                began = time.monotonic()
                for i in range(count):
                    await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
                    body = _alert(i)
                    headers = signed(body) | {"Sentry-Hook-Resource": "event_alert"}
                    sent[i] = time.monotonic()
                    async with http.post(
                        f"{base}/webhooks/sentry", data=body, headers=headers
                    ) as response:
                        assert response.status == 200, await response.text()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline and (  # noqa: ASYNC110 - polling the fakes
                    len(mailbox.arrived) < count or len(ntfy.delivered) < count
                ):
                    await asyncio.sleep(0.1)
            dm: dict[int, float] = {}
            for call in slack.calls_to("chat.postMessage"):
                if call.args.get("channel") == BOB and (found := ISSUE.search(str(call.args))):
                    _first(dm, int(found.group(1)), call.at)
            mail: dict[int, float] = {}
            for message, at in zip(mailbox.messages(), mailbox.arrived, strict=True):
                if found := ISSUE.search(str(message["Subject"])):
                    _first(mail, int(found.group(1)), at)
            push: dict[int, float] = {}
            for published in ntfy.delivered:
                if found := ISSUE.search(published.body):
                    _first(push, int(found.group(1)), published.at)

    print(f"\n== {count} critical Sentry alerts at {rate:g}/s → SEV1 → page infra")
    for name, arrived in (("Slack DM", dm), ("e-mail", mail), ("push", push)):
        ms = [1000 * (arrived[i] - sent[i]) for i in arrived]
        missing = count - len(arrived)
        if not ms:
            print(f"{name:<10} none arrived")
            continue
        print(
            f"{name:<10} p50 {percentile(ms, 50):6.0f} ms   p95 {percentile(ms, 95):6.0f} ms"
            f"   max {max(ms):6.0f} ms   missing {missing}"
        )
    all_three = [
        1000 * (max(dm[i], mail[i], push[i]) - sent[i])
        for i in sent
        if i in dm and i in mail and i in push
    ]
    if all_three:
        print(
            f"{'all three':<10} p50 {percentile(all_three, 50):6.0f} ms"
            f"   p95 {percentile(all_three, 95):6.0f} ms   max {max(all_three):6.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=100)
    parser.add_argument("--rate", type=float, default=5.0, help="webhooks per second")
    args = parser.parse_args()
    asyncio.run(run(args.incidents, args.rate))


if __name__ == "__main__":
    main()
