"""Two bots at once. Two `serve` processes on one database and one Redis (Render's deploy
overlap, or two replicas): each alert is grouped once, each page sent once, one Slack
message per alert notice. Two bots on two databases sharing one Redis (staging and
production on one Upstash database): neither reads, counts into or folds the other's keys."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from tests.drivers.held_reach import reach
from tests.drivers.slack import INCIDENTS_CHANNEL
from tests.drivers.waiting import until
from tests.faults.configs import ANA_REACH, BOB_REACH, PAGING_YAML
from tests.faults.sentry_load import firing, flood, mixed
from tests.faults.stack import ALERTS_CHANNEL, Stack, build_stack, second_database
from tests.faults.tally import alert_tally, notice_problems, rows, settle_alerts


@pytest.mark.timeout(40)
async def test_two_serve_processes_on_one_database_group_page_and_post_once(
    stack: Stack,
) -> None:
    async with reach(stack.slack) as where:
        a = await stack.bot(PAGING_YAML, name="a", **where.env)
        b = await stack.bot(PAGING_YAML, name="b", **where.env)
        prefix = await stack.prefix()
        routed = [firing(9299, level="fatal", environment="production") for _ in range(12)]
        webhooks = routed[:1] + mixed(range(9201, 9216), 15) + routed[1:]
        ledger = await flood([a.base, b.base], webhooks, 100)  # round-robin between them

        async def paged_twice() -> bool:  # Bob, then Ana a second later, then nobody
            found = await rows(stack.database_url, "SELECT status FROM escalations")
            return [e["status"] for e in found] == ["exhausted"]

        with contextlib.suppress(TimeoutError):  # counted below
            await until(paged_twice, limit=10)
        pending = await settle_alerts(stack.database_url, stack.redis.url, prefix)
        await asyncio.sleep(1)  # a tick or two more: neither bot sends anything again
        tally = await alert_tally(stack.database_url, ledger, pending)
        report = tally.report(ledger)

        assert ledger.statuses() == {200: len(webhooks)}, report
        assert tally.lost == 0, report
        assert tally.duplicated == 0, report
        assert tally.split_groups == 0, report
        logs = f"{a.log_summary()}\n{b.log_summary()}"
        assert not pending, f"{report}\n{logs}"
        problems = await notice_problems(stack.database_url, stack.slack, ALERTS_CHANNEL)
        assert problems == [], f"{problems}\n{logs}"
        incidents = await rows(stack.database_url, "SELECT number, alert_group_id FROM incidents")
        assert len(incidents) == 1, incidents
        assert len(stack.slack.calls_to("conversations.create")) == 1
        announced = [m for m in stack.slack.channels[INCIDENTS_CHANNEL].messages if m.get("bot_id")]
        assert len(announced) == 1, announced
        seen = f"Bob {where.count(BOB_REACH)}, Ana {where.count(ANA_REACH)}"
        assert where.count(BOB_REACH) == (1, 1, 1), seen  # (e-mails, pushes, DMs)
        assert where.count(ANA_REACH) == (1, 1, 1), seen
        pages = await rows(stack.database_url, "SELECT target, status FROM pages ORDER BY id")
        assert pages == [
            {"target": "infra", "status": "sent"},
            {"target": "owner", "status": "sent"},
        ]


@pytest.mark.timeout(40)
async def test_two_bots_on_two_databases_sharing_one_redis_keep_to_their_own_keys(
    stack: Stack, tmp_path: Path
) -> None:
    async with build_stack(tmp_path / "other", await second_database(), stack.redis) as other:
        ours = await stack.bot()
        theirs = await other.bot()
        prefixes = await stack.prefix(), await other.prefix()
        assert prefixes[0] != prefixes[1]
        # The same Sentry issues (one Sentry org, two environments), different amounts.
        ours_ledger, their_ledger = await asyncio.gather(
            flood(ours.base, mixed([9301, 9302], 19), 40),
            flood(theirs.base, mixed([9301, 9302], 29), 60),
        )
        pending = await asyncio.gather(
            settle_alerts(stack.database_url, stack.redis.url, prefixes[0]),
            settle_alerts(other.database_url, stack.redis.url, prefixes[1]),
        )
        mine = await alert_tally(stack.database_url, ours_ledger, pending[0])
        yours = await alert_tally(other.database_url, their_ledger, pending[1])

        assert ours_ledger.statuses() == {200: 40}
        assert their_ledger.statuses() == {200: 60}
        assert mine.counted == {"sentry:issue:9301": 20, "sentry:issue:9302": 20}, mine.report()
        assert yours.counted == {"sentry:issue:9301": 30, "sentry:issue:9302": 30}, yours.report()
        assert mine.split_groups == yours.split_groups == 0
        async with stack.redis.client() as redis:
            keys = [k async for k in redis.scan_iter(match="*")]
        assert keys, "neither bot used Redis"
        assert all(k.startswith(prefixes) for k in keys), keys
        assert any(k.startswith(prefixes[0]) for k in keys), keys
        assert any(k.startswith(prefixes[1]) for k in keys), keys
