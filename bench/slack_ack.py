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
import tempfile
import time
from urllib.parse import urlencode

import aiohttp
from _harness import percentile, serving

from tests.drivers.payloads import slack_fixture
from tests.drivers.slack import INCIDENTS_CHANNEL, SIGNING_SECRET, sign
from tests.fakes.slack_api import FakeSlackAPI


async def run(commands: int, concurrency: int, database_url: str) -> None:
    async with FakeSlackAPI() as slack:
        slack.add_channel("incidents", channel_id=INCIDENTS_CHANNEL)
        env = {
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.url,
            "LUCIA_INCIDENTS_CHANNEL": INCIDENTS_CHANNEL,
        }
        latencies: list[float] = []
        statuses: list[int] = []
        gate = asyncio.Semaphore(concurrency)
        async with serving(env) as base, aiohttp.ClientSession() as http:

            async def one(i: int) -> None:
                form = urlencode(
                    slack_fixture("slash_command.json")
                    | {
                        "text": f"incident open sev3 Bench incident {i}",
                        "response_url": slack.response_url(f"r{i}"),
                    }
                )
                headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(form)}
                async with gate:
                    started = time.perf_counter()
                    async with http.post(
                        f"{base}/slack/events", data=form.encode(), headers=headers
                    ) as response:
                        await response.read()
                        latencies.append(time.perf_counter() - started)
                        statuses.append(response.status)

            began = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(commands)))
            acked = time.perf_counter() - began
            # One card per incident channel plus one announcement each.
            await slack.wait_for("chat.postMessage", 2 * commands, timeout=600)
            provisioned = time.perf_counter() - began

        ms = [1000 * v for v in latencies]
        p50, p95, p99 = (percentile(ms, p) for p in (50, 95, 99))
        print(f"database              {database_url.split('@')[-1]}")
        print(f"commands              {commands} at concurrency {concurrency}")
        print(f"HTTP 200              {statuses.count(200)}/{commands}")
        print(
            f"ack latency ms        p50 {p50:.1f}  p95 {p95:.1f}  p99 {p99:.1f}  max {max(ms):.1f}"
        )
        print(f"acks over 3 s         {sum(v > 3000 for v in ms)}")
        print(f"all acked in          {acked:.2f} s ({commands / acked:.0f} commands/s)")
        print(f"all provisioned in    {provisioned:.2f} s (channel, invite, topic, card, notice)")
        print(f"channels created      {len(slack.calls_to('conversations.create'))}")


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
