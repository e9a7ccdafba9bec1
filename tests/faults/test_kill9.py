"""`kill -9` of `lucia-bot serve` at the worst moments, then a restart: mid-flood (every
delivery answered 2xx is in an alert group after the restart), mid-escalation (each page
reaches each person exactly once through each channel) and mid-playbook (the run ends up
`interrupted` within its lease, and its service is free again)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts.pipeline import FOLD_RETRY
from bot.dedupe.redis_counter import FOLD_LOCK_MS
from bot.slack.views.ids import RUN_ACTIONS
from tests.drivers.held_reach import reach
from tests.drivers.waiting import until
from tests.fakes.render_api import FakeRenderAPI
from tests.faults.configs import ANA_REACH, BOB_REACH, FAST_ALERTS, PAGING_YAML
from tests.faults.sentry_load import firing, flood, mixed
from tests.faults.slack_requests import buttons, click, slash, wait_answer
from tests.faults.stack import ALERTS_CHANNEL, ANA, GENERAL_CHANNEL, Stack
from tests.faults.tally import alert_tally, notice_problems, rows, settle_alerts


@pytest.mark.timeout(40)
async def test_kill_9_mid_flood_loses_no_delivery_that_was_answered_2xx(stack: Stack) -> None:
    bot = await stack.bot()
    prefix = await stack.prefix()

    restarted = asyncio.Event()

    async def kill_and_restart() -> None:
        await asyncio.sleep(1.2)  # groups made, repeats counted in Redis, commits in flight
        await bot.kill9()
        await bot.start()
        restarted.set()

    webhooks = mixed(range(9001, 9016), 19)  # 300 webhooks, 3 s, then more until restarted
    ledger, _ = await asyncio.gather(
        flood(bot.base, webhooks, 100, until=restarted, tail=0.5), kill_and_restart()
    )
    # The killed folder may have held the fold lock: its counts wait in Redis until the
    # lock runs out; the restarted bot's next retry folds them, and the next the counts
    # that waited behind them.
    wait = FOLD_LOCK_MS / 1000 + 2 * FOLD_RETRY + 4
    pending = await settle_alerts(stack.database_url, stack.redis.url, prefix, limit=wait)
    tally = await alert_tally(stack.database_url, ledger, pending)
    report = tally.report(ledger)

    # While it was down nothing answered (0); an answer is never an error.
    assert set(ledger.statuses()) <= {200, 0}, report
    assert ledger.statuses()[0] > 0, f"the kill landed outside the flood: {report}"
    assert tally.lost == 0, report
    assert tally.duplicated == 0, report
    assert tally.split_groups == 0, report
    assert not pending, f"{report}\n{bot.log_summary()}"
    problems = await notice_problems(stack.database_url, stack.slack, ALERTS_CHANNEL)
    assert problems == [], f"{problems}\n{bot.log_summary()}"


@pytest.mark.timeout(40)
async def test_kill_9_mid_escalation_pages_each_person_once_through_each_channel(
    stack: Stack,
) -> None:
    """A routed SEV1 pages Bob (infra) first, Ana (owner) a second later. The bot is killed
    while Bob's e-mail is at the SMTP server (kept there, its 250 not yet back), so Ana's
    step falls due while nothing runs. After the restart Bob's page is finished — its push
    sent, its e-mail not sent again — and Ana's step fires once."""
    async with reach(stack.slack) as where:
        bot = await stack.bot(PAGING_YAML, **where.env)
        where.mailbox.hold.set()
        await flood(bot.base, [firing(9101, level="fatal", environment="production")], 1)

        async def bob_mail_at_the_server() -> bool:
            return where.mails_to(BOB_REACH[0]) == 1

        await until(bob_mail_at_the_server)
        await bot.kill9()  # mid-send: Slack done, e-mail unanswered, push not yet tried
        where.mailbox.hold.clear()
        await asyncio.sleep(1)
        await bot.start()

        async def everyone_paged() -> bool:
            pages = await rows(stack.database_url, "SELECT status FROM pages")
            finished = len(pages) == 2 and all(p["status"] in ("sent", "failed") for p in pages)
            return (
                finished and min(where.count(BOB_REACH)) >= 1 and min(where.count(ANA_REACH)) >= 1
            )

        with contextlib.suppress(TimeoutError):  # counted below, with what is missing
            await until(everyone_paged, limit=6)
        await asyncio.sleep(1.5)  # a tick or two more: nothing goes out again

        pages = await rows(
            stack.database_url,
            "SELECT p.id, p.target, p.status, array_agg(d.channel ORDER BY d.channel) AS done "
            "FROM pages p LEFT JOIN page_deliveries d ON d.page_id = p.id "
            "GROUP BY p.id ORDER BY p.id",
        )
        seen = f"pages {pages}; Bob {where.count(BOB_REACH)}, Ana {where.count(ANA_REACH)}"
        # (e-mails, pushes, DMs) that reached each person: once each, never twice, never none.
        assert where.count(BOB_REACH) == (1, 1, 1), seen
        assert where.count(ANA_REACH) == (1, 1, 1), seen
        assert [p["target"] for p in pages] == ["infra", "owner"], seen
        assert all(p["status"] == "sent" for p in pages), seen
        (escalation,) = await rows(stack.database_url, "SELECT status FROM escalations")
        assert escalation["status"] == "exhausted", seen


SERVICE_ID = "srv-engine0000000000000"
RUN_LEASE = 2  # seconds: playbooks.run_lease in lucia.yaml
SLOW_ROLLBACK = """
name: rollback
description: Roll back and wait until the new deploy is live.
steps:
  - kind: rollback
  - kind: wait_live
    timeout: 30s
    poll: 0s
"""


@pytest.mark.timeout(40)
async def test_kill_9_mid_playbook_marks_the_run_interrupted_and_frees_the_service(
    stack: Stack, tmp_path: Path
) -> None:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "rollback.yaml").write_text(SLOW_ROLLBACK)
    config = (
        FAST_ALERTS
        + f"""
owners:
  owner: {{name: Ana Lucia, slack: {ANA}}}
services:
  engine: {{render_service_id: {SERVICE_ID}, production: false}}
playbooks: {{run_lease: {RUN_LEASE}}}
"""
    )
    async with FakeRenderAPI(rollback_seconds=60) as render:  # never live while we look
        render.add_service(SERVICE_ID, "engine")
        now = datetime.now(UTC)
        render.add_deploy(SERVICE_ID, "deactivated", created_at=now - timedelta(hours=2))
        render.add_deploy(SERVICE_ID, "live", created_at=now - timedelta(hours=1))
        env = {
            "RENDER_API_KEY": render.api_key,
            "RENDER_API_URL": render.url,
            "LUCIA_PLAYBOOKS": str(playbooks),
        }
        bot = await stack.bot(config, **env)
        await slash(bot.base, stack.slack, "rollback engine", key="plan", channel=GENERAL_CHANNEL)
        plan = await wait_answer(stack.slack, "plan")
        run_id = buttons(stack.slack, "plan").get(RUN_ACTIONS["confirm"])
        assert run_id, f"no Confirm button on the plan: {plan}"
        await click(bot.base, stack.slack, RUN_ACTIONS["confirm"], run_id, key="confirm")

        async def waiting_for_render() -> bool:
            steps = await rows(
                stack.database_url, "SELECT kind, state FROM playbook_steps ORDER BY index"
            )
            return [s["state"] for s in steps] == ["succeeded", "running"]

        await until(waiting_for_render)
        await bot.kill9()
        await bot.start()
        restarted_at = asyncio.get_running_loop().time()

        async def interrupted() -> bool:
            (run,) = await rows(stack.database_url, "SELECT state FROM playbook_runs")
            return run["state"] == "interrupted"

        try:
            await until(interrupted, limit=RUN_LEASE + 3)
        except TimeoutError:
            runs = await rows(stack.database_url, "SELECT id, state FROM playbook_runs")
            raise AssertionError(
                f"the run is not interrupted {RUN_LEASE + 3} s after the restart: {runs}"
            ) from None
        took = asyncio.get_running_loop().time() - restarted_at
        assert took < RUN_LEASE + 1, f"interrupted only {took:.1f} s after the restart"

        # Its service lock is free: a new run of the same service can be planned.
        await slash(bot.base, stack.slack, "rollback engine", key="again", channel=GENERAL_CHANNEL)
        again = await wait_answer(stack.slack, "again")
        assert RUN_ACTIONS["confirm"] in buttons(stack.slack, "again"), again

        def said() -> list[str]:
            return [str(m.get("text", "")) for m in stack.slack.channels[GENERAL_CHANNEL].messages]

        async def told() -> bool:  # where it was asked: it stopped, and it is not known how
            return any("INTERRUPTED" in t and f"R{run_id}" in t for t in said())

        with contextlib.suppress(TimeoutError):
            await until(told, limit=3)
        assert await told(), said()
        assert not any(t.startswith("✅") and f"R{run_id}" in t for t in said()), said()
        assert len(render.calls_to("POST /rollback")) == 1  # the interrupted run's, once
