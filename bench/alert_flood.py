"""Sentry's alert flood against a running bot, and Alertmanager as the reference.

Starts `lucia-bot serve` (real PostgreSQL and Redis on 127.0.0.1) with a local Slack
stand-in, sends signed realistic `event_alert` webhooks in three scenarios — all
duplicates of one issue, all distinct issues, and a mix — and prints, per scenario:
webhooks/s, p50/p95/p99 response time, Slack API calls, Redis commands per webhook, rows
stored and alerts lost (2xx answers not in the database). Then it sends the same number
of alerts, one per POST, to `prometheus-alertmanager` (Debian package) on 127.0.0.1 and
prints the ratio of the two rates.

    .venv/bin/python bench/alert_flood.py --duplicates 10000 --distinct 500 --concurrency 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from _harness import free_port, percentile, serving, wait_healthy

from tests.conftest import REDIS_URL, sentry_fixture
from tests.fakes.slack_api import FakeSlackAPI
from tests.sentry.test_webhook import SECRET, signed

# A database of its own: the bench empties its public schema before each scenario.
POSTGRES_URL = os.environ.get(
    "LUCIA_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/lucia_bench"
)
ALERTS = "C01ALERTS0"
RATE: float | None = None  # --rate: open-loop webhooks per second
CONFIG = "alerts:\n  group_wait: 2s\n  update_interval: 2s\n"


def _bodies(count: int, distinct: Callable[[int], bool]) -> list[bytes]:
    template = json.loads(sentry_fixture("event_alert.triggered.json"))
    bodies = []
    for i in range(count):
        template["data"]["event"]["issue_id"] = str(100_000 + i) if distinct(i) else "1"
        template["data"]["event"]["title"] = f"TypeError in checkout step {i if distinct(i) else 0}"
        bodies.append(json.dumps(template).encode())
    return bodies


async def _reset_database() -> None:
    name = POSTGRES_URL.rsplit("/", 1)[1]
    admin = await asyncpg.connect(POSTGRES_URL.rsplit("/", 1)[0] + "/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def _stored() -> tuple[int, int, int, int]:
    """Deliveries kept, still unread, alert groups, and events counted on them."""
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        kept = await conn.fetchval("SELECT count(*) FROM alert_deliveries")
        pending = await conn.fetchval(
            "SELECT count(*) FROM alert_deliveries WHERE processed_at IS NULL"
        )
        groups, events = await conn.fetchrow(
            "SELECT count(*), coalesce(sum(count), 0) FROM alert_groups"
        )
        return int(kept), int(pending), int(groups), int(events)
    finally:
        await conn.close()


async def _reset_redis() -> None:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def _redis_commands() -> int:
    client = aioredis.from_url(REDIS_URL)
    try:
        return int((await client.info("stats"))["total_commands_processed"])
    finally:
        await client.aclose()


async def _fire(
    url: str, bodies: list[bytes], concurrency: int, headers_for: Callable[[bytes], dict[str, str]]
) -> tuple[float, list[float], list[int]]:
    """Closed loop at `concurrency`, or open loop at RATE webhooks/s when --rate is given:
    then a slow answer doesn't slow the sender, as with Sentry."""
    latencies: list[float] = []
    statuses: list[int] = []
    gate = asyncio.Semaphore(concurrency if RATE is None else len(bodies))
    connector = aiohttp.TCPConnector(limit=concurrency if RATE is None else 1000)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(body: bytes) -> None:
            async with gate:
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers_for(body)) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status)

        began = time.perf_counter()
        if RATE is None:
            await asyncio.gather(*(one(b) for b in bodies))
        else:
            sends = []
            for i, body in enumerate(bodies):
                await asyncio.sleep(max(0.0, began + i / RATE - time.perf_counter()))
                sends.append(asyncio.create_task(one(body)))
            await asyncio.gather(*sends)
    return time.perf_counter() - began, latencies, statuses


async def scenario(name: str, bodies: list[bytes], concurrency: int) -> float:
    await _reset_database()
    await _reset_redis()
    async with FakeSlackAPI() as slack:
        slack.add_channel("alerts", channel_id=ALERTS)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "lucia.yaml").write_text(CONFIG)
            env = {
                "DATABASE_URL": POSTGRES_URL,
                "REDIS_URL": REDIS_URL,
                "SENTRY_CLIENT_SECRET": SECRET,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": "bench",
                "SLACK_API_URL": slack.url,
                "LUCIA_ALERTS_CHANNEL": ALERTS,
            }
            async with serving(env, cwd=Path(tmp)) as base:
                redis_before = await _redis_commands()
                elapsed, latencies, statuses = await _fire(
                    f"{base}/webhooks/sentry",
                    bodies,
                    concurrency,
                    lambda b: signed(b) | {"Sentry-Hook-Resource": "event_alert"},
                )
                redis_used = await _redis_commands() - redis_before
                # Let the reader and the notices catch up (group_wait + update_interval).
                deadline = time.monotonic() + 120
                while (await _stored())[1] and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
                await asyncio.sleep(5)
                kept, pending, groups, events = await _stored()
        posts = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALERTS]
        shown = [m["text"] for m in slack.channels[ALERTS].messages]
        updates = slack.calls_to("chat.update")
    ms = [1000 * v for v in latencies]
    ok = statuses.count(200)
    rate = len(bodies) / elapsed
    pace = f"a fixed {RATE:,.0f}/s" if RATE else f"concurrency {concurrency}"
    print(f"\n== {name}: {len(bodies)} webhooks at {pace}")
    print(f"webhooks/s            {rate:,.0f}")
    print(
        f"response ms           p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}"
        f"  p99 {percentile(ms, 99):.1f}"
    )
    print(f"HTTP 200              {ok}/{len(bodies)}")
    print(f"Slack calls           {len(posts)} chat.postMessage, {len(updates)} chat.update")
    print(f"Slack shows           {'; '.join(shown) or 'nothing'}")
    print(
        f"Redis commands        {redis_used / len(bodies):.2f} per webhook (server count,"
        " incl. calls inside a script; one round trip per repeat)"
    )
    print(
        f"rows stored           {kept} deliveries ({pending} unread), {groups} alert groups"
        f" counting {events:,} events"
    )
    print(f"alerts lost           {max(0, ok - events)} (2xx answers not counted on a group)")
    if events > ok:
        print(f"counted twice         {events - ok}")
    return rate


async def alertmanager(count: int, concurrency: int) -> float | None:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        print("\n== Alertmanager: not installed (apt-get install prometheus-alertmanager)")
        return None
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "am.yml"
        config.write_text(
            "route:\n  receiver: none\n  group_by: [project]\nreceivers:\n  - name: none\n"
        )
        proc = await asyncio.create_subprocess_exec(
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_healthy(base, "/-/ready")
            now = datetime.now(UTC)
            bodies = [
                json.dumps(
                    [
                        {
                            "labels": {
                                "alertname": "SentryIssue",
                                "issue": "1",
                                "project": "front-end",
                            },
                            "annotations": {"title": "TypeError in checkout"},
                            "startsAt": now.isoformat(),
                            "endsAt": (now + timedelta(hours=1)).isoformat(),
                        }
                    ]
                ).encode()
                for _ in range(count)
            ]
            elapsed, latencies, statuses = await _fire(
                f"{base}/api/v2/alerts",
                bodies,
                concurrency,
                lambda _b: {"Content-Type": "application/json"},
            )
        finally:
            proc.terminate()
            await proc.wait()
    ms = [1000 * v for v in latencies]
    rate = count / elapsed
    print(f"\n== Alertmanager {binary}: {count} alerts (one per POST) at concurrency {concurrency}")
    print(f"alerts/s              {rate:,.0f}")
    print(
        f"response ms           p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}"
        f"  p99 {percentile(ms, 99):.1f}"
    )
    print(f"HTTP 200              {statuses.count(200)}/{count}")
    return rate


async def run(duplicates: int, distinct: int, concurrency: int) -> None:
    dup_rate = await scenario(
        "all duplicates of one issue", _bodies(duplicates, lambda _i: False), concurrency
    )
    await scenario("all distinct issues", _bodies(distinct, lambda _i: True), concurrency)
    await scenario(
        "a mix (1 in 10 distinct)", _bodies(duplicates // 2, lambda i: i % 10 == 0), concurrency
    )
    reference = await alertmanager(duplicates, concurrency)
    if reference:
        print(f"\nLucia / Alertmanager  {dup_rate / reference:.2f} (same volume and concurrency)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duplicates", type=int, default=10_000)
    parser.add_argument("--distinct", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="send at this fixed rate (webhooks/s) instead of a closed loop",
    )
    args = parser.parse_args()
    global RATE
    RATE = args.rate
    asyncio.run(run(args.duplicates, args.distinct, args.concurrency))


if __name__ == "__main__":
    main()
