"""A run whose bot died is noticed: `lucia-bot serve` as a process runs a rollback in an
incident channel, is killed with `kill -9` while it waits for Render, and the next
`serve` marks the run interrupted when its lease runs out (not before), frees the service
for a new run, and says so in the channel and on the incident's timeline."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack.views.ids import RUN_ACTIONS
from bot.store.database import create_engine, driver_url, from_utc
from bot.store.tables import playbook_runs, playbook_steps, timeline_events
from tests.drivers.bot import Bot
from tests.drivers.playbooks import ANA, BOB, DASHBOARD, GENERAL, SERVICE_ID, Render, said
from tests.drivers.ports import free_port
from tests.drivers.serve import start_serve
from tests.drivers.services import empty_postgres
from tests.drivers.slack import INCIDENTS_CHANNEL, SIGNING_SECRET, sign
from tests.drivers.waiting import until
from tests.fakes.slack_api import FakeSlackAPI

LEASE = 6  # seconds: short for the test (two minutes by default)
ROLLBACK = """
name: rollback
description: Roll back, auto-deploy off, wait until live (long), check health.
steps:
  - kind: rollback
  - kind: autodeploy_off
  - kind: wait_live
    timeout: 60s
    poll: 0s
  - kind: health_check
    retries: 2
    interval: 0s
"""


class ServeBot(Bot):
    """`Bot`'s signed Slack requests, sent to a `lucia-bot serve` process instead."""

    def __init__(self, base: str, http: aiohttp.ClientSession, slack: FakeSlackAPI) -> None:
        super().__init__(None, slack)  # type: ignore[arg-type]
        self._base = base
        self._http = http

    async def post(self, body: str, content_type: str, **headers: str) -> Any:
        async with self._http.post(
            f"{self._base}/slack/events",
            data=body.encode(),
            headers={"Content-Type": content_type, **sign(body), **headers},
        ) as response:
            assert response.status == 200
            return response


@asynccontextmanager
async def serving(env: dict[str, str], cwd: Path, slack: FakeSlackAPI) -> AsyncIterator[Any]:
    """A `serve` process and a way to talk to it; the process, to kill."""
    proc = await start_serve(env, cwd)
    try:
        async with aiohttp.ClientSession() as http:
            yield proc, ServeBot(f"http://127.0.0.1:{env['PORT']}", http, slack)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()


async def the_run(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(playbook_runs).where(playbook_runs.c.id == 1))).one()
    return dict(row._mapping)


async def steps(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(playbook_steps.c.kind, playbook_steps.c.state)
            .where(playbook_steps.c.run_id == 1)
            .order_by(playbook_steps.c.index)
        )
        return [(str(k), str(s)) for k, s in rows]


@pytest.mark.parametrize("down", [0.0, LEASE + 1.0], ids=["back-within-the-lease", "back-after"])
async def test_a_run_whose_bot_was_killed_is_marked_interrupted_and_frees_its_service(
    slack_api: FakeSlackAPI, render: Render, tmp_path: Path, down: float
) -> None:
    (render.folder / "rollback.yaml").write_text(ROLLBACK)
    render.api.next_rollback(None)  # Render never finishes it: the run waits at step 3
    (tmp_path / "lucia.yaml").write_text(
        f"""
owners:
  owner: {{name: Ana, slack: {ANA}}}
  infra: {{name: Bob, slack: {BOB}}}
services:
  engine:
    render_service_id: {SERVICE_ID}
    health_url: "{render.health.url}"
    production: false
playbooks:
  run_lease: {LEASE}s
"""
    )
    database = await empty_postgres()
    env = {
        "PATH": os.environ["PATH"],
        "PORT": str(free_port()),
        "DATABASE_URL": database,
        "SLACK_BOT_TOKEN": slack_api.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api.url,
        "LUCIA_INCIDENTS_CHANNEL": INCIDENTS_CHANNEL,
        "RENDER_API_KEY": render.api.api_key,
        "RENDER_API_URL": render.api.url,
        "LUCIA_PLAYBOOKS": str(render.folder),
        "LOG_LEVEL": "WARNING",
    }
    engine = create_engine(driver_url(database))
    try:
        async with serving(env, tmp_path, slack_api) as (proc, bot):
            await bot.command("incident open sev2 Engine down", user=ANA, channel=GENERAL)

            async def channel_made() -> bool:
                return any(c.name.startswith("inc-1") for c in slack_api.channels.values())

            await until(channel_made)
            channel = next(c for c in slack_api.channels.values() if c.name.startswith("inc-1"))
            await bot.command("rollback engine", user=ANA, channel=channel.id, response_key="plan")
            await said(bot, "plan")
            await bot.click(
                RUN_ACTIONS["confirm"], "1", user=ANA, channel=channel.id, response_key="go"
            )
            assert (await said(bot, "go")).startswith("✅ Running R1")

            async def waiting_for_live() -> bool:
                return ("wait_live", "running") in await steps(engine)

            await until(waiting_for_live)
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        killed = await the_run(engine)
        assert killed["state"] == "running"  # nothing else can tell, with no bot up
        last_sign = from_utc(killed["heartbeat_at"])
        await asyncio.sleep(down)

        async with serving(env, tmp_path, slack_api) as (_proc, bot):

            async def interrupted() -> bool:
                return (await the_run(engine))["state"] == "interrupted"

            await until(interrupted, limit=LEASE + 5)
            run = await the_run(engine)

            async def told() -> bool:
                return any("INTERRUPTED" in m["text"] for m in channel.messages)

            await until(told)
            await bot.command(
                "playbook run restart engine", user=BOB, channel=GENERAL, response_key="next"
            )
            next_run = await said(bot, "next")
        async with engine.connect() as conn:
            timeline = [
                str(t)
                for (t,) in await conn.execute(
                    sa.select(timeline_events.c.text)
                    .where(timeline_events.c.kind == "playbook")
                    .order_by(timeline_events.c.id)
                )
            ]
        stored_steps = await steps(engine)
    finally:
        await engine.dispose()

    noticed = from_utc(run["finished_at"])
    assert noticed >= last_sign + timedelta(seconds=LEASE)  # not while the lease held
    if not down:  # woken by the lease's due time, not by a poll long after
        assert noticed <= last_sign + timedelta(seconds=LEASE + 2)
    made = render.made("rollback")
    said_in_channel = next(m["text"] for m in channel.messages if "INTERRUPTED" in m["text"])
    assert said_in_channel == "\n".join(
        [
            "⚠️ R1 rollback on engine: INTERRUPTED during step 3 of 4 (wait_live) — the bot "
            f"running it stopped (no sign of it for {LEASE} s). engine is free for a new run. "
            f"Check the service's deploys in Render before acting: {DASHBOARD}/deploys/{made} "
            f"({made} is the deploy this run made).",
            f"Render now: engine is on {render.live} (bbbb222 Bad release), live; this run's "
            f"deploy {made} is still update_in_progress.",
            "Auto-deploy is off: turn it back on once the fix is merged.",
            f"✅ step 1 rollback: Render started rollback deploy {made} to {render.old}",
            "✅ step 2 autodeploy_off: auto-deploy is off: the next push won't ship by itself",
            "⚠️ step 3 wait_live: was running when the bot stopped: outcome unknown",
            "– step 4 health_check: not started",
        ]
    )
    assert run["result"] == said_in_channel  # what was said is what is stored
    assert timeline[-1] == (
        "R1 rollback interrupted during step 3 of 4 (wait_live): the bot running it stopped. "
        f"Check the service's deploys in Render before acting: {DASHBOARD}/deploys/{made} "
        f"({made} is the deploy this run made)."
    )
    assert any(
        f"<@{ANA}> R1 rollback interrupted during step 3 of 4 (wait_live)" in m["text"]
        for m in channel.messages
    )  # the incident channel shows the timeline line too
    assert stored_steps == [
        ("rollback", "succeeded"),
        ("autodeploy_off", "succeeded"),
        ("wait_live", "interrupted"),
    ]
    assert next_run.startswith("*R2: restart on engine*")  # the service's lock is free
    assert len(render.api.calls_to("POST /rollback")) == 1  # nothing was run again
