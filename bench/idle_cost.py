"""What an idle bot costs, and whether its timers still fire on time.

Starts `lucia-bot serve` on real PostgreSQL (`LUCIA_BENCH_DATABASE_URL`, default database
`lucia_bench`, emptied) and a redis-server of its own (so `INFO commandstats` counts only
the bot), with Slack, Sentry and a routing rule configured, then:

1. idles for `--minutes` (10 by default) and prints the Redis commands and the Postgres
   transactions it made (Redis `INFO commandstats`, `pg_stat_database` deltas, read from
   outside the bot's database), and the Upstash commands a month that rate means
   (the free tier is 500,000);
2. sends one critical Sentry alert whose route opens a SEV1 that pages `infra`, then
   `fallback` 5 s later, and prints how late the alert message and each page were
   against when they were due.

    .venv/bin/python bench/idle_cost.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from _harness import postgres_admin, serving
from alert_flood import POSTGRES_URL, _reset_database
from sqlalchemy.engine import make_url

from tests.drivers.payloads import sentry_fixture
from tests.drivers.sentry import SECRET, signed
from tests.fakes.slack_api import FakeSlackAPI
from tests.faults.redis_server import RedisServer

BOB, DAN, ALERTS = "U01BOBBY00", "U01DANFB00", "C0ALERTS01"
GROUP_WAIT, STEP_WAIT = 2.0, 5.0
CONFIG = f"""
owners:
  infra: {{name: Bob Infra, slack: {BOB}}}
  fallback: {{name: Dan Fallback, slack: {DAN}}}
alerts: {{group_wait: {GROUP_WAIT:g}, update_interval: 2}}
routing:
  - match: {{level: [fatal]}}
    action: incident
    severity: sev1
escalation:
  sev1:
    steps:
      - {{roles: [infra], wait: {STEP_WAIT:g}}}
      - {{roles: [fallback], wait: 10m}}
"""
MONTH_MINUTES = 60 * 24 * 30
UPSTASH_FREE = 500_000


async def _redis_calls(url: str) -> dict[str, int]:
    """Calls so far, by command."""
    client = aioredis.from_url(url)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    # Our own INFO calls are counted too: leave them out.
    return {
        k.removeprefix("cmdstat_").upper(): int(v["calls"])
        for k, v in stats.items()
        if k != "cmdstat_info"
    }


async def _transactions() -> int:
    url = make_url(POSTGRES_URL)
    # Read from another database, so reading adds nothing to the bot's own counters.
    conn = await postgres_admin(POSTGRES_URL)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        value = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
            url.database,
        )
    finally:
        await conn.close()
    return int(value or 0)


async def _settle_counts() -> None:
    """Wait until pg_stat_database's counters hold the bot's start-up and nothing else.

    The tables migrations just made would be vacuumed and analyzed by autovacuum in the
    minutes to come, and its transactions count there: do it now. And a backend reports
    its counts only at the end of a later transaction, so each of the bot's pooled
    connections still holds the start-up's until it next works (the bot looks once a
    minute, one connection at a time): wait until every one of them has, so the
    measurement counts only what the idle bot does."""
    url = make_url(POSTGRES_URL)
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    since = time.time() + 1.5  # a backend flushes at most once a second
    admin = await postgres_admin(POSTGRES_URL)
    try:
        for _ in range(60):  # at most 10 minutes
            await asyncio.sleep(10)
            behind = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid() "
                "AND extract(epoch FROM state_change) < $2",
                url.database,
                since,
            )
            if behind == 0:
                break
    finally:
        await admin.close()
    await asyncio.sleep(2)  # the last one's report lands


def _alert() -> bytes:
    payload = json.loads(sentry_fixture("event_alert.triggered.json"))
    payload["data"]["event"] |= {"issue_id": "777001", "level": "fatal", "title": "Idle check"}
    return json.dumps(payload).encode()


async def _first_call(slack: FakeSlackAPI, channel: str, limit: float) -> float | None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for call in slack.calls_to("chat.postMessage"):
            if call.args.get("channel") == channel:
                return call.at
        await asyncio.sleep(0.05)
    return None


async def run(minutes: float) -> None:
    await _reset_database()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "lucia.yaml").write_text(CONFIG)
        redis = RedisServer(Path(tmp) / "redis")
        await redis.start()
        try:
            async with FakeSlackAPI() as slack:
                slack.add_channel("alerts", channel_id=ALERTS)
                for user, name in ((BOB, "bob"), (DAN, "dan")):
                    slack.add_user(user, name)
                env = {
                    "DATABASE_URL": POSTGRES_URL,
                    "REDIS_URL": redis.url,
                    "SENTRY_CLIENT_SECRET": SECRET,
                    "SLACK_BOT_TOKEN": slack.bot_token,
                    "SLACK_SIGNING_SECRET": "bench",
                    "SLACK_API_URL": slack.url,
                    "LUCIA_ALERTS_CHANNEL": ALERTS,
                }
                async with serving(env, cwd=Path(tmp)) as base:
                    await asyncio.sleep(5)  # start-up work done
                    await _settle_counts()
                    await _idle(redis.url, minutes)
                    await _on_time(base, slack)
        finally:
            await redis.close()


async def _idle(redis_url: str, minutes: float) -> None:
    redis_before, pg_before = await _redis_calls(redis_url), await _transactions()
    await asyncio.sleep(minutes * 60)
    redis_after = await _redis_calls(redis_url)
    by_command = {
        name: calls - redis_before.get(name, 0)
        for name, calls in sorted(redis_after.items())
        if calls > redis_before.get(name, 0)
    }
    redis_calls = sum(by_command.values())
    transactions = await _transactions() - pg_before
    per_minute = redis_calls / minutes
    print(f"\n== idle for {minutes:g} min")
    print(f"Redis commands        {redis_calls:6d}   {per_minute:.2f}/min (goal ≤ 1/min)")
    if by_command:
        print("                      " + ", ".join(f"{n} {c}" for n, c in by_command.items()))
    print(
        f"Postgres transactions {transactions:6d}   one every "
        f"{minutes * 60 / max(transactions, 1):.1f} s (goal ≥ 10 s)"
    )
    monthly = per_minute * MONTH_MINUTES
    print(
        f"Upstash commands a month at this rate: {monthly:,.0f} "
        f"({monthly / UPSTASH_FREE:.1%} of the free tier's {UPSTASH_FREE:,})"
    )


async def _on_time(base: str, slack: FakeSlackAPI) -> None:
    body = _alert()
    async with aiohttp.ClientSession() as http:
        sent = time.monotonic()
        headers = signed(body) | {"Sentry-Hook-Resource": "event_alert"}
        async with http.post(f"{base}/webhooks/sentry", data=body, headers=headers) as answer:
            assert answer.status == 200, await answer.text()
    notice = await _first_call(slack, ALERTS, 30)
    first = await _first_call(slack, BOB, 30)
    second = await _first_call(slack, DAN, 30)
    print("\n== after the idle spell: one critical alert")
    rows = (
        ("alert message", notice, sent + GROUP_WAIT),
        ("page infra", first, sent),
        ("page fallback", second, (first or sent) + STEP_WAIT),
    )
    for what, at, due in rows:
        late = "never came" if at is None else f"{1000 * (at - due):7.0f} ms after it was due"
        print(f"{what:<14} {late}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(run(args.minutes))


if __name__ == "__main__":
    main()
