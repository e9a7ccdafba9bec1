"""Sentry's alert flood against a running bot, and Alertmanager as the reference.

Starts `lucia-bot serve` (real PostgreSQL and Redis on 127.0.0.1) with a local Slack
stand-in, sends signed realistic `event_alert` webhooks in three scenarios — all
duplicates of one issue, all distinct issues, and a mix — and prints, per scenario:
webhooks/s, p50/p95/p99 response time, Slack API calls, Redis commands per webhook, rows
stored and alerts lost (2xx answers not in the database). Then it sends the same number
of alerts, one per POST, to `prometheus-alertmanager` (Debian package) on 127.0.0.1 and
prints the ratio of the two rates.

Last, the sustained rate: duplicates of one issue for --sustain seconds from `wrk` (Debian
package; a C load generator, so the bot isn't sharing this 2-core machine with a Python
client), against the bot and then against Alertmanager.

    .venv/bin/python bench/alert_flood.py --duplicates 10000 --distinct 500 --concurrency 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from _harness import free_port, percentile, serving, wait_healthy

from tests.drivers.payloads import sentry_fixture
from tests.drivers.sentry import SECRET, signed
from tests.drivers.services import REDIS_URL
from tests.fakes.slack_api import FakeSlackAPI

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


async def _redis_commands() -> tuple[int, int]:
    """Commands Redis has run (those inside scripts too), and of them EVALSHAs."""
    client = aioredis.from_url(REDIS_URL)
    try:
        total = (await client.info("stats"))["total_commands_processed"]
        evalsha = (await client.info("commandstats")).get("cmdstat_evalsha", {}).get("calls", 0)
        return int(total), int(evalsha)
    finally:
        await client.aclose()


async def _fire(
    url: str, bodies: list[bytes], concurrency: int, headers_for: Callable[[bytes], dict[str, str]]
) -> tuple[float, list[float], list[int], float]:
    """Closed loop at `concurrency`, or open loop at RATE webhooks/s when --rate is given:
    then a slow answer doesn't slow the sender, as with Sentry. Also returns the rate
    over the second half of the answers: the sustained rate, past the first seconds."""
    latencies: list[float] = []
    finished: list[float] = []
    statuses: list[int] = []
    gate = asyncio.Semaphore(concurrency if RATE is None else len(bodies))
    connector = aiohttp.TCPConnector(limit=concurrency if RATE is None else 1000)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(body: bytes) -> None:
            async with gate:
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers_for(body)) as response:
                    await response.read()
                finished.append(time.perf_counter())
                latencies.append(finished[-1] - started)
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
    half = len(finished) // 2
    sustained = (len(finished) - half) / max(finished[-1] - finished[half], 1e-9)
    return time.perf_counter() - began, latencies, statuses, sustained


@asynccontextmanager
async def _bot() -> AsyncIterator[tuple[str, FakeSlackAPI]]:
    """`lucia-bot serve` on an empty database and Redis; yields its URL and Slack."""
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
                yield base, slack


async def _caught_up() -> tuple[int, int, int, int]:
    """What is stored once the reader and the notices have caught up."""
    deadline = time.monotonic() + 120
    while (await _stored())[1] and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    await asyncio.sleep(5)  # group_wait + update_interval
    return await _stored()


def _print_slack(slack: FakeSlackAPI) -> None:
    posts = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] == ALERTS]
    shown = [m["text"] for m in slack.channels[ALERTS].messages]
    updates = slack.calls_to("chat.update")
    print(f"Slack calls           {len(posts)} chat.postMessage, {len(updates)} chat.update")
    print(f"Slack shows           {'; '.join(shown) or 'nothing'}")


def _print_counts(
    answered: int, redis_used: tuple[int, int], stored: tuple[int, int, int, int]
) -> None:
    kept, pending, groups, events = stored
    commands, evalsha = redis_used
    print(
        f"Redis commands        {commands / answered:.2f} per webhook, those inside scripts"
        f" too; {evalsha / answered:.3f} EVALSHA (repeats sent together share one)"
    )
    print(
        f"rows stored           {kept} deliveries ({pending} unread), {groups} alert groups"
        f" counting {events:,} events"
    )
    print(f"alerts lost           {max(0, answered - events)} (2xx answers not counted on a group)")
    if events > answered:
        print(f"counted, not answered {events - answered} (still in flight when the load stopped)")


async def scenario(name: str, bodies: list[bytes], concurrency: int) -> float:
    async with _bot() as (base, slack):
        redis_before = await _redis_commands()
        elapsed, latencies, statuses, sustained = await _fire(
            f"{base}/webhooks/sentry",
            bodies,
            concurrency,
            lambda b: signed(b) | {"Sentry-Hook-Resource": "event_alert"},
        )
        redis_after = await _redis_commands()
        redis_used = (redis_after[0] - redis_before[0], redis_after[1] - redis_before[1])
        stored = await _caught_up()
    ms = [1000 * v for v in latencies]
    ok = statuses.count(200)
    rate = len(bodies) / elapsed
    pace = f"a fixed {RATE:,.0f}/s" if RATE else f"concurrency {concurrency}"
    print(f"\n== {name}: {len(bodies)} webhooks at {pace}")
    print(f"webhooks/s            {rate:,.0f} overall, {sustained:,.0f} sustained (second half)")
    print(
        f"response ms           p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}"
        f"  p99 {percentile(ms, 99):.1f}"
    )
    print(f"HTTP 200              {ok}/{len(bodies)}")
    _print_slack(slack)
    _print_counts(ok, redis_used, stored)
    return rate


ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


@asynccontextmanager
async def _alertmanager() -> AsyncIterator[str]:
    """`prometheus-alertmanager` on 127.0.0.1; yields its URL."""
    assert ALERTMANAGER is not None
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "am.yml"
        config.write_text(
            "route:\n  receiver: none\n  group_by: [project]\nreceivers:\n  - name: none\n"
        )
        proc = await asyncio.create_subprocess_exec(
            ALERTMANAGER,
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
            yield base
        finally:
            proc.terminate()
            await proc.wait()


def _alertmanager_body() -> bytes:
    """The same alert as the duplicates scenario, in Alertmanager's shape."""
    now = datetime.now(UTC)
    alert = {
        "labels": {"alertname": "SentryIssue", "issue": "1", "project": "front-end"},
        "annotations": {"title": "TypeError in checkout"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
    }
    return json.dumps([alert]).encode()


async def alertmanager(count: int, concurrency: int) -> float | None:
    if ALERTMANAGER is None:
        print("\n== Alertmanager: not installed (apt-get install prometheus-alertmanager)")
        return None
    async with _alertmanager() as base:
        elapsed, latencies, statuses, _sustained = await _fire(
            f"{base}/api/v2/alerts",
            [_alertmanager_body()] * count,
            concurrency,
            lambda _b: {"Content-Type": "application/json"},
        )
    ms = [1000 * v for v in latencies]
    rate = count / elapsed
    print(f"\n== Alertmanager: {count} alerts (one per POST) at concurrency {concurrency}")
    print(f"alerts/s              {rate:,.0f}")
    print(
        f"response ms           p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}"
        f"  p99 {percentile(ms, 99):.1f}"
    )
    print(f"HTTP 200              {statuses.count(200)}/{count}")
    return rate


@dataclass(frozen=True)
class WrkRun:
    requests: int
    rate: float
    not_2xx: int
    latency_ms: dict[str, float]  # "50%", "75%", "90%", "99%"


async def _wrk(url: str, body: bytes, headers: dict[str, str], seconds: int, conns: int) -> WrkRun:
    """The same request over and over from `wrk`, a C load generator: the Python client
    takes half a core of this 2-core machine, and the bot would share what is left."""
    script = "wrk.method = 'POST'\nwrk.body = " + json.dumps(body.decode()) + "\n"
    script += "".join(
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items()
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        proc = await asyncio.create_subprocess_exec(
            "wrk",
            "-t1",
            f"-c{conns}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            lua.name,
            url,
            stdout=asyncio.subprocess.PIPE,
        )
        out = (await proc.communicate())[0].decode()
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    latency = {
        pct: float(value) * units[unit]
        for pct, value, unit in re.findall(r"^\s+(\d+%)\s+([\d.]+)(us|ms|s)$", out, re.M)
    }
    not_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkRun(
        requests=int(re.search(r"(\d+) requests in", out)[1]),  # type: ignore[index]
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        not_2xx=int(not_2xx[1]) if not_2xx else 0,
        latency_ms=latency,
    )


def _print_wrk(run: WrkRun) -> None:
    ms = run.latency_ms
    print(f"webhooks/s            {run.rate:,.0f}")
    print(f"response ms           p50 {ms['50%']:.1f}  p90 {ms['90%']:.1f}  p99 {ms['99%']:.1f}")
    print(f"HTTP 2xx              {run.requests - run.not_2xx}/{run.requests}")


async def sustained(seconds: int, concurrency: int) -> None:
    """Duplicates of one issue for `seconds`, from wrk; the same against Alertmanager."""
    if shutil.which("wrk") is None:
        print("\n== sustained duplicates: wrk is not installed (apt-get install wrk)")
        return
    body = _bodies(1, lambda _i: False)[0]
    async with _bot() as (base, slack):
        redis_before = await _redis_commands()
        headers = signed(body) | {"Sentry-Hook-Resource": "event_alert"}
        lucia = await _wrk(f"{base}/webhooks/sentry", body, headers, seconds, concurrency)
        redis_after = await _redis_commands()
        redis_used = (redis_after[0] - redis_before[0], redis_after[1] - redis_before[1])
        stored = await _caught_up()
    print(
        f"\n== sustained duplicates of one issue: {seconds} s from wrk, {concurrency} connections"
    )
    _print_wrk(lucia)
    _print_slack(slack)
    _print_counts(lucia.requests - lucia.not_2xx, redis_used, stored)
    if ALERTMANAGER is None:
        return
    async with _alertmanager() as base:
        headers = {"Content-Type": "application/json"}
        reference = await _wrk(
            f"{base}/api/v2/alerts", _alertmanager_body(), headers, seconds, concurrency
        )
    print(f"\n== Alertmanager, the same from wrk: {seconds} s, {concurrency} connections")
    _print_wrk(reference)
    print(f"\nLucia / Alertmanager  {lucia.rate / reference.rate:.2f} (sustained, from wrk)")


async def run(duplicates: int, distinct: int, concurrency: int, seconds: int) -> None:
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
    if seconds:
        await sustained(seconds, concurrency)


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
    parser.add_argument(
        "--sustain",
        type=int,
        default=20,
        metavar="SECONDS",
        help="then duplicates for this long from wrk, if installed (0: skip)",
    )
    args = parser.parse_args()
    global RATE
    RATE = args.rate
    asyncio.run(run(args.duplicates, args.distinct, args.concurrency, args.sustain))


if __name__ == "__main__":
    main()
