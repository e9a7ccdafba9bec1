"""How fast `lucia-bot serve` acknowledges `/lucia incident open`, and how long until
every incident has its channel and card.

Starts the bot as its own process against a local Slack stand-in on 127.0.0.1, sends
signed slash commands at a chosen concurrency, and prints ack latency percentiles (Slack
gives up after 3 s) and the time until all incidents are provisioned.

    .venv/bin/python bench/slack_ack.py --commands 200 --concurrency 20
    .venv/bin/python bench/slack_ack.py --database-url postgresql://postgres@127.0.0.1/lucia_bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.conftest import INCIDENTS_CHANNEL, SIGNING_SECRET, sign, slack_fixture
from tests.fakes.slack_api import FakeSlackAPI


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def _wait_healthy(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    raise SystemExit("the bot never became healthy")


async def run(commands: int, concurrency: int, database_url: str) -> None:
    async with FakeSlackAPI() as slack:
        slack.add_channel("incidents", channel_id=INCIDENTS_CHANNEL)
        port = _free_port()
        env = {
            "PATH": os.environ["PATH"],
            "PORT": str(port),
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.url,
            "LUCIA_INCIDENTS_CHANNEL": INCIDENTS_CHANNEL,
            "LOG_LEVEL": "WARNING",
        }
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            await _wait_healthy(base)
            latencies: list[float] = []
            statuses: list[int] = []
            gate = asyncio.Semaphore(concurrency)

            async def one(http: aiohttp.ClientSession, i: int) -> None:
                form = urlencode(
                    slack_fixture("slash_command.json")
                    | {
                        "text": f"incident open sev3 Bench incident {i}",
                        "response_url": slack.response_url(f"r{i}"),
                    }
                )
                async with gate:
                    started = time.perf_counter()
                    async with http.post(
                        f"{base}/slack/events",
                        data=form.encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded", **sign(form)},
                    ) as response:
                        await response.read()
                        latencies.append(time.perf_counter() - started)
                        statuses.append(response.status)

            began = time.perf_counter()
            async with aiohttp.ClientSession() as http:
                await asyncio.gather(*(one(http, i) for i in range(commands)))
            acked = time.perf_counter() - began
            # One card per incident channel plus one announcement each.
            await slack.wait_for("chat.postMessage", 2 * commands, timeout=600)
            provisioned = time.perf_counter() - began
        finally:
            bot.send_signal(signal.SIGTERM)
            await bot.wait()

        ms = [1000 * v for v in latencies]
        print(f"database              {database_url.split('@')[-1]}")
        print(f"commands              {commands} at concurrency {concurrency}")
        print(f"HTTP 200              {statuses.count(200)}/{commands}")
        p50, p95, p99 = (_percentile(ms, p) for p in (50, 95, 99))
        print(
            f"ack latency ms        p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {max(ms):.1f}"
        )
        print(f"acks over 3 s         {sum(v > 3000 for v in ms)}")
        print(f"all acked in          {acked:.2f} s ({commands / acked:.0f} commands/s)")
        print(f"all provisioned in    {provisioned:.2f} s (channel, invite, topic, card, notice)")
        print(f"channels created      {len(slack.calls_to('conversations.create'))}")
        print(f"bot exit code         {bot.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--database-url", default=None, help="default: a fresh SQLite file in a temporary directory"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        asyncio.run(run(args.commands, args.concurrency, url))


if __name__ == "__main__":
    main()
