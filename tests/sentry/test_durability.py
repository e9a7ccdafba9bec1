"""A delivery that got its 2xx survives the bot being killed (kill -9) right after."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import aiohttp
import sqlalchemy as sa

from bot.store.database import create_engine, driver_url
from bot.store.tables import alert_deliveries, alert_groups
from tests.drivers.payloads import sentry_fixture
from tests.drivers.ports import free_port
from tests.drivers.sentry import SECRET, signed
from tests.drivers.serve import start_serve
from tests.drivers.services import empty_postgres

DELIVERIES = 200


async def _counts(database_url: str) -> tuple[int, int, int]:
    engine = create_engine(driver_url(database_url))
    try:
        async with engine.connect() as conn:
            kept = await conn.execute(sa.select(sa.func.count()).select_from(alert_deliveries))
            pending = await conn.execute(
                sa.select(sa.func.count()).where(alert_deliveries.c.processed_at.is_(None))
            )
            groups = await conn.execute(sa.select(sa.func.count()).select_from(alert_groups))
            return kept.scalar_one(), pending.scalar_one(), groups.scalar_one()
    finally:
        await engine.dispose()


async def test_acknowledged_deliveries_survive_kill_9_and_are_read_after_restart(
    tmp_path: Path,
) -> None:
    database_url = await empty_postgres()
    env = {
        "PATH": os.environ["PATH"],
        "PORT": str(free_port()),
        "DATABASE_URL": database_url,
        "SENTRY_CLIENT_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
    }
    template = json.loads(sentry_fixture("event_alert.triggered.json"))
    bodies = []
    for issue in range(DELIVERIES):
        template["data"]["event"]["issue_id"] = str(10_000 + issue)
        bodies.append(json.dumps(template).encode())

    proc = await start_serve(env, tmp_path)
    url = f"http://127.0.0.1:{env['PORT']}/webhooks/sentry"
    async with aiohttp.ClientSession() as http:

        async def send(body: bytes) -> int:
            headers = signed(body) | {"Sentry-Hook-Resource": "event_alert"}
            async with http.post(url, data=body, headers=headers) as response:
                return response.status

        statuses = await asyncio.gather(*(send(body) for body in bodies))
    proc.send_signal(signal.SIGKILL)  # no shutdown at all: nothing gets to finish
    await proc.wait()
    assert statuses == [200] * DELIVERIES

    kept, _pending, _groups = await _counts(database_url)  # most still unread, usually
    assert kept == DELIVERIES  # every 2xx was already committed

    proc = await start_serve(env, tmp_path)  # reads what the killed process didn't
    try:
        for _ in range(200):
            _kept, pending, groups = await _counts(database_url)
            if pending == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    assert pending == 0
    assert groups == DELIVERIES
