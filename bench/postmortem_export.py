"""How long a postmortem export takes for a long incident: 10,000 timeline events, pages
and a playbook run, on real PostgreSQL (`LUCIA_BENCH_DATABASE_URL`, default database
`lucia_bench`, emptied first). Prints the time to read everything and render Markdown and
JSON (best and median of several runs) and checks the output is byte-identical each time.
Target: under a second.

    .venv/bin/python bench/postmortem_export.py --events 10000 --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta

from _harness import percentile
from alert_flood import POSTGRES_URL, _reset_database

from bot.incidents.model import EventKind
from bot.postmortem.export import postmortem_json, postmortem_markdown
from bot.store.database import create_engine, driver_url
from bot.store.migrate import upgrade
from bot.store.postmortem_store import SqlPostmortemStore
from bot.store.tables import incident_counter, incidents, timeline_events

KINDS = [EventKind.NOTE, EventKind.UPDATE, EventKind.ALERT, EventKind.PINNED, EventKind.PAGE]


async def seed(engine_url: str, events: int) -> None:
    engine = create_engine(driver_url(engine_url))
    try:
        await upgrade(engine)
        start = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
        async with engine.begin() as conn:
            await conn.execute(incident_counter.update().values(last_number=1))
            await conn.execute(
                incidents.insert().values(
                    number=1,
                    title="Checkout crashes on submit",
                    severity="sev1",
                    status="resolved",
                    opened_by="lucia",
                    lead="U01ALICE00",
                    channel_id="C0INC00001",
                    channel_name="inc-1-checkout-crashes",
                    created_at=start,
                    updated_at=start + timedelta(hours=3),
                    acknowledged_at=start + timedelta(minutes=4),
                    acknowledged_by="U01BOBBY00",
                    mitigated_at=start + timedelta(minutes=40),
                    resolved_at=start + timedelta(hours=3),
                    summary="A bad deploy broke checkout; rolled back.",
                )
            )
            rows = [
                {
                    "incident_number": 1,
                    "at": start + timedelta(seconds=i),
                    "kind": KINDS[i % len(KINDS)].value,
                    "actor": "U01BOBBY00" if i % 3 else "lucia",
                    "text": f"Event {i}: checkout error rate at {i % 97}% | retrying",
                    "data": {"i": i},
                }
                for i in range(events)
            ]
            for chunk in range(0, len(rows), 2000):
                await conn.execute(timeline_events.insert(), rows[chunk : chunk + 2000])
    finally:
        await engine.dispose()


async def run(events: int, runs: int) -> None:
    await _reset_database()
    await seed(POSTGRES_URL, events)
    engine = create_engine(driver_url(POSTGRES_URL))
    store = SqlPostmortemStore(engine)
    timings: list[float] = []
    outputs: set[tuple[str, str]] = set()
    try:
        for _ in range(runs):
            began = time.perf_counter()
            data = await store.gather(1)
            assert data is not None
            markdown, as_json = postmortem_markdown(data), postmortem_json(data)
            timings.append(time.perf_counter() - began)
            outputs.add((markdown, as_json))
    finally:
        await engine.dispose()
    ms = [1000 * t for t in timings]
    markdown, as_json = next(iter(outputs))
    print(
        f"\n== postmortem export: {events:,} timeline events, {runs} runs (read + Markdown + JSON)"
    )
    print(
        f"time ms               best {min(ms):.0f}  median {statistics.median(ms):.0f}"
        f"  worst {percentile(ms, 100):.0f}"
    )
    print(f"output                {len(markdown):,} bytes Markdown, {len(as_json):,} bytes JSON")
    print(f"byte-identical runs   {'yes' if len(outputs) == 1 else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.events, args.runs))


if __name__ == "__main__":
    main()
