"""`lucia-bot serve` as a process: JSON logs, no secrets in them, graceful SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from tests.drivers.payloads import slack_fixture
from tests.drivers.ports import free_port
from tests.drivers.slack import INCIDENTS_CHANNEL, SIGNING_SECRET, sign
from tests.fakes.slack_api import FakeSlackAPI


async def _wait_healthy(base: str, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            if proc.returncode is not None:
                raise AssertionError("serve exited before it was healthy")
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("serve never answered /healthz")


async def test_sigterm_lets_in_flight_work_finish(slack_api: FakeSlackAPI, tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "lucia.db"
    env = {
        "PATH": os.environ["PATH"],
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{database}",
        "SLACK_BOT_TOKEN": slack_api.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api.url,
        "LUCIA_INCIDENTS_CHANNEL": INCIDENTS_CHANNEL,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(base, proc)
        slack_api.delay("conversations.create", 1.5)  # the work is mid-flight at SIGTERM
        form = urlencode(
            slack_fixture("slash_command.json")
            | {
                "text": "incident open sev1 Shutdown drill",
                "response_url": slack_api.response_url("cmd"),
            }
        )
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{base}/slack/events",
                data=form.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded", **sign(form)},
            ) as response,
        ):
            assert response.status == 200
        await slack_api.wait_for("conversations.create")
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    assert proc.returncode == 0, stderr.decode()
    # The incident was opened, its channel made and its card posted, though SIGTERM came
    # while Slack was still creating the channel.
    with sqlite3.connect(database) as db:
        channel_id, card_ts = db.execute(
            "SELECT channel_id, card_ts FROM incidents WHERE number = 1"
        ).fetchone()
    assert channel_id
    assert card_ts
    assert any(c.args.get("channel") == channel_id for c in slack_api.calls_to("chat.postMessage"))

    lines = [line for line in stdout.decode().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["message"] == "incident_opened" for r in records)
    everything = stdout.decode() + stderr.decode()
    assert slack_api.bot_token not in everything
    assert SIGNING_SECRET not in everything


async def test_an_idle_bot_writes_no_line_per_tick(slack_api: FakeSlackAPI, tmp_path: Path) -> None:
    """Render keeps every stdout line: a ticker's "Running job" each second is ~170,000
    lines a day that say nothing."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'lucia.db'}",
        "SLACK_BOT_TOKEN": slack_api.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api.url,
        "LOG_LEVEL": "INFO",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await _wait_healthy(f"http://127.0.0.1:{port}", proc)
        started = [json.loads(line) for line in await _lines_for(proc, 0.5)]
        idle = await _lines_for(proc, 3.5)  # three ticks and more
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    assert any(r["message"] == "serving" for r in started)
    # Bolt's "As you gave client as well, token will be unused", among others, is gone.
    assert [r for r in started if r["logger"].startswith("slack")] == []
    # No lucia.yaml: nothing was loaded, so no line says every role "changed".
    assert [r for r in started if r["message"] == "launch_gate_loaded"] == []
    assert idle == []


async def _lines_for(proc: asyncio.subprocess.Process, seconds: float) -> list[bytes]:
    assert proc.stdout is not None
    lines: list[bytes] = []
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while (left := until - loop.time()) > 0:
        try:
            lines.append(await asyncio.wait_for(proc.stdout.readline(), left))
        except TimeoutError:
            break
    return [line for line in lines if line.strip()]
