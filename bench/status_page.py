"""How many requests a second one `lucia-bot serve` answers for the public status page,
and their p99, with an active incident and 90 days of history (an incident every few days,
each with its updates and component changes) on real PostgreSQL
(`LUCIA_BENCH_DATABASE_URL`, default database `lucia_bench`, emptied first).

For `/api/v2/summary.json` and `/status` in turn: a closed loop of `--concurrency`
clients on 127.0.0.1, each request a fresh read and render (no If-None-Match), bounded by
`--requests` and `--seconds`; then the same with the ETag sent back (304s, which still
read the page to know it is unchanged). It also counts the Postgres transactions made per
request (`pg_stat_database`, read from outside the bot's database): one read each.

    .venv/bin/python bench/status_page.py --requests 2000 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from _harness import percentile, postgres_admin, serving
from alert_flood import POSTGRES_URL, _reset_database
from sqlalchemy.engine import make_url

from bot.status.model import ComponentState, Maintenance, Phase
from bot.store.database import create_engine, driver_url
from bot.store.migrate import upgrade
from bot.store.status_store import SqlStatusStore

CONFIG = """
status_page:
  name: Lucia
  url: https://status.lucia.example
  components:
    - {id: engine, name: Engine (API), group: Platform, description: The API behind the app}
    - {id: admin, name: Admin, group: Platform}
    - {id: web, name: Web app}
    - {id: email, name: E-mail delivery}
"""
COMPONENTS = ["engine", "admin", "web", "email"]
BAD = [
    ComponentState.MAJOR_OUTAGE,
    ComponentState.PARTIAL_OUTAGE,
    ComponentState.DEGRADED_PERFORMANCE,
]


async def seed(every_days: float) -> tuple[int, int]:
    """100 days watched, an incident every `every_days` (investigating, identified,
    monitoring, resolved), one still open, and a maintenance to come. Returns (incidents,
    component changes)."""
    rng = random.Random(14)
    now = datetime.now(UTC)
    engine = create_engine(driver_url(POSTGRES_URL))
    incidents = changes = 0
    try:
        await upgrade(engine)
        store = SqlStatusStore(engine)
        await store.watch(COMPONENTS, now - timedelta(days=100))
        at = now - timedelta(days=95)
        while at < now - timedelta(hours=6):
            hit = rng.sample(COMPONENTS, rng.randint(1, 2))
            states = {c: rng.choice(BAD) for c in hit}
            opened = await store.publish(
                incident_id=None,
                name=f"Elevated errors on {', '.join(hit)}",
                phase=Phase.INVESTIGATING,
                body="We are investigating elevated error rates.",
                components=states,
                number=None,
                by="U01ALICE00",
                at=at,
                event=None,
            )
            steps = [
                (Phase.IDENTIFIED, "The cause is identified; a fix is being rolled out.", states),
                (Phase.MONITORING, "A fix is out; we are watching the error rates.", {}),
                (
                    Phase.RESOLVED,
                    "This incident has been resolved.",
                    {c: ComponentState.OPERATIONAL for c in hit},
                ),
            ]
            when = at
            for phase, body, now_states in steps:
                when += timedelta(minutes=rng.randint(10, 90))
                await store.publish(
                    incident_id=opened.id,
                    name=opened.name,
                    phase=phase,
                    body=body,
                    components=now_states,
                    number=None,
                    by="U01ALICE00",
                    at=when,
                    event=None,
                )
            incidents += 1
            changes += 2 * len(hit) + len(hit)
            at += timedelta(days=every_days * rng.uniform(0.5, 1.5))
        active = await store.publish(
            incident_id=None,
            name="Checkout is failing for some customers",
            phase=Phase.INVESTIGATING,
            body="Checkout is failing for some customers; we are looking into it.",
            components={"engine": ComponentState.MAJOR_OUTAGE},
            number=None,
            by="U01ALICE00",
            at=now - timedelta(minutes=20),
            event=None,
        )
        await store.publish(
            incident_id=active.id,
            name=active.name,
            phase=Phase.IDENTIFIED,
            body="A bad deploy; rolling it back.",
            components={"engine": ComponentState.PARTIAL_OUTAGE},
            number=None,
            by="U01ALICE00",
            at=now - timedelta(minutes=5),
            event=None,
        )
        await store.add_maintenance(
            Maintenance(
                0,
                "Database upgrade",
                "The Admin is read-only while its database is upgraded.",
                ("admin",),
                now + timedelta(days=2),
                now + timedelta(days=2, hours=1),
                now,
                "U01ALICE00",
            )
        )
        return incidents + 1, changes + 2
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Run:
    path: str
    conditional: bool
    latencies: list[float]
    statuses: dict[int, int]
    seconds: float
    size: int


async def load(
    http: aiohttp.ClientSession,
    url: str,
    requests: int,
    concurrency: int,
    seconds: float,
    etag: str | None,
) -> Run:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"If-None-Match": etag} if etag else {}
    deadline = time.perf_counter() + seconds
    sent = 0
    size = 0

    async def client() -> None:
        nonlocal sent, size
        while sent < requests and time.perf_counter() < deadline:
            sent += 1
            began = time.perf_counter()
            async with http.get(url, headers=headers) as response:
                body = await response.read()
            latencies.append(time.perf_counter() - began)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            size = max(size, len(body))

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return Run(url, etag is not None, latencies, statuses, time.perf_counter() - began, size)


async def transactions() -> int:
    database = make_url(POSTGRES_URL).database
    conn = await postgres_admin(POSTGRES_URL)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        value = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
            database,
        )
    finally:
        await conn.close()
    return int(value or 0)


async def settled_transactions() -> int:
    """A backend reports its counts only after a later transaction or a while idle (a
    second or more): read until the count holds still."""
    last = await transactions()
    while True:
        await asyncio.sleep(2)
        now = await transactions()
        if now == last:
            return now
        last = now


def report(run: Run, path: str) -> None:
    ms = [1000 * v for v in run.latencies]
    kind = "If-None-Match (304)" if run.conditional else "full body"
    answered = ", ".join(f"{n} × {status}" for status, n in sorted(run.statuses.items()))
    print(f"\n== {path}, {kind}: {len(ms)} requests")
    print(f"requests/s            {len(ms) / run.seconds:,.0f}")
    print(
        f"latency ms            p50 {percentile(ms, 50):.1f}  p90 {percentile(ms, 90):.1f}"
        f"  p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}"
    )
    print(f"answers               {answered}; body {run.size:,} bytes")


async def run(requests: int, concurrency: int, seconds: float, every_days: float) -> None:
    await _reset_database()
    incidents, changes = await seed(every_days)
    print(f"history               {incidents} incidents, ~{changes} component changes, 90 days")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "lucia.yaml").write_text(CONFIG)
        env = {"DATABASE_URL": POSTGRES_URL}
        async with serving(env, cwd=Path(tmp)) as base, aiohttp.ClientSession() as http:
            await asyncio.sleep(2)  # start-up work done
            total_requests = 0
            before = await settled_transactions()
            for path in ("/api/v2/summary.json", "/status"):
                url = base + path
                await load(http, url, 50, concurrency, seconds, None)  # warm up
                full = await load(http, url, requests, concurrency, seconds, None)
                report(full, path)
                async with http.get(url) as response:
                    etag = response.headers["ETag"]
                cached = await load(http, url, requests, concurrency, seconds, etag)
                report(cached, path)
                total_requests += 50 + len(full.latencies) + 1 + len(cached.latencies)
            after = await settled_transactions()
        made = after - before
        print(
            f"\npostgres transactions {made} for {total_requests} requests "
            f"({made / total_requests:.2f} a request)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="per route and kind")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30, help="at most, per route and kind")
    parser.add_argument("--every-days", type=float, default=3, help="an incident this often")
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrency, args.seconds, args.every_days))


if __name__ == "__main__":
    main()
