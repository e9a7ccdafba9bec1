"""Playbooks end to end: the real bot driven with signed Slack requests, a local Render API
whose deploys move through statuses over time, and a local health URL. (The wording of
every shipped playbook's result is in test_result.py; runs whose bot died, test_lease.py.)"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import sqlalchemy as sa

from bot.slack.views.ids import RUN_ACTIONS
from bot.store.tables import timeline_events
from tests.drivers.playbooks import (
    ANA,
    BOB,
    EVE,
    GENERAL,
    SERVICE_ID,
    Render,
    approve_value,
    channel_question,
    confirm,
    messages,
    plan_buttons,
    playbook_bot,
    result,
    said,
    step_states,
    stored_result,
)
from tests.drivers.waiting import until
from tests.fakes.slack_api import FakeSlackAPI

GUARDED = """
name: guarded
description: Restart, then wait for a second person before checking.
approval: auto
steps:
  - kind: restart
  - kind: approval
    message: Restarted; check the logs, then approve.
    timeout: 10s
  - kind: health_check
    retries: 2
    interval: 0s
"""
BROKEN = """
name: broken
steps:
  - kind: reboot_the_world
"""


async def test_a_rollback_is_called_done_only_when_live_and_healthy(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    async with playbook_bot(slack_api, database_url, render) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        plan = await said(bot, "cmd")
        assert f"Live now: `{render.live}` (bbbb222 Bad release)" in plan
        assert f"Roll back to: `{render.old}` (aaaa111 Good release)" in plan
        assert set(plan_buttons(bot)) == {RUN_ACTIONS["confirm"], RUN_ACTIONS["cancel"]}
        assert not render.api.calls_to("POST /rollback")  # nothing changes before Confirm
        assert (await confirm(bot)).startswith("✅ Running R1")
        done = await result(bot)
        states = await step_states(bot)
        stored = await stored_result(bot)
    assert done.startswith(
        f"✅ R1 rollback on engine: done — rolled back to {render.old} (aaaa111 Good release)"
    )
    assert stored == ("done", done)  # what was said is what is stored
    assert states == [
        ("rollback", "succeeded"),
        ("autodeploy_off", "succeeded"),
        ("wait_live", "succeeded"),
        ("health_check", "succeeded"),
    ]
    (rollback,) = render.api.calls_to("POST /rollback")
    assert rollback.json == {"deployId": render.old}
    assert render.api.services[SERVICE_ID].auto_deploy_trigger == "off"


async def test_render_429s_mid_run_are_waited_out_and_the_steps_go_on_the_incident_timeline(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    async with playbook_bot(slack_api, database_url, render) as bot:
        await bot.command("incident open sev1 Engine down", user=ANA, channel=GENERAL)
        await bot.settle()
        channel = next(c for c in bot.slack.channels.values() if c.name.startswith("inc-1")).id
        await bot.command("rollback engine", user=ANA, channel=channel, response_key="plan")
        await said(bot, "plan")
        render.api.fail_next("GET", 429, retry_after=0.2, times=2)
        run_id = plan_buttons(bot, "plan")[RUN_ACTIONS["confirm"]]
        await bot.click(RUN_ACTIONS["confirm"], run_id, user=ANA, channel=channel, response_key="c")
        await said(bot, "c")
        await result(bot, channel)
        await bot.settle()
        async with bot.runtime.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(timeline_events.c.text)
                .where(timeline_events.c.kind == "playbook")
                .order_by(timeline_events.c.id)
            )
            steps = [str(r[0]) for r in rows]
        shown = [t for t in messages(bot, channel) if " R1 rollback step " in t]
    assert [c.status for c in render.api.calls if c.status == 429] == [429, 429]
    assert steps[0].startswith("R1 rollback step 1 rollback: succeeded")
    assert steps[-1].startswith("R1 rollback step 4 health_check: succeeded")
    assert len(steps) == 4
    # The channel shows each step with the run's id as it is written everywhere: R1.
    assert len(shown) == 4
    assert f"<@{ANA}> R1 rollback step 1 rollback: succeeded — Render started" in shown[0]


async def test_a_double_click_on_confirm_runs_once(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    async with playbook_bot(slack_api, database_url, render) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        run_id = plan_buttons(bot)[RUN_ACTIONS["confirm"]]
        await asyncio.gather(
            *(
                bot.click(RUN_ACTIONS["confirm"], run_id, user=ANA, channel=GENERAL, response_key=k)
                for k in ("one", "two")
            )
        )
        await result(bot)
        answers = sorted([await said(bot, "one"), await said(bot, "two")])
    assert len(render.api.calls_to("POST /rollback")) == 1
    assert re.fullmatch(
        r"✅ R1 is already running \(step [1-4] of 4: [a-z_]+\), confirmed by Ana\.", answers[0]
    )
    assert answers[1] == "✅ Running R1 (rollback on engine)."


async def test_a_second_click_on_confirm_says_what_the_stored_run_shows(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    render.api.next_rollback(None)  # Render never finishes it: the run waits at step 3

    async def waiting_for_live() -> bool:
        return ("wait_live", "running") in await step_states(bot)

    async with playbook_bot(slack_api, database_url, render) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        await confirm(bot)
        await until(waiting_for_live)
        running = await confirm(bot, key="again")
        done = await result(bot)
        finished = await confirm(bot, key="after")
        await bot.command(
            "playbook run restart engine", user=ANA, channel=GENERAL, response_key="plan"
        )
        await said(bot, "plan")
        run_id = plan_buttons(bot, "plan")[RUN_ACTIONS["cancel"]]
        await bot.click(RUN_ACTIONS["cancel"], run_id, user=ANA, channel=GENERAL)
        assert await said(bot, "click") == "✅ Cancelled R2: nothing was changed."
        await bot.click(
            RUN_ACTIONS["confirm"], run_id, user=ANA, channel=GENERAL, response_key="cancelled"
        )
        cancelled = await said(bot, "cancelled")
    assert running == "✅ R1 is already running (step 3 of 4: wait_live), confirmed by Ana."
    assert finished == f"✅ R1 already ran, confirmed by Ana. Its result: {done.splitlines()[0]}"
    assert finished.startswith(
        "✅ R1 already ran, confirmed by Ana. Its result: ⚠️ R1 rollback on engine: "
        "NOT CONFIRMED at step 3 of 4 (wait_live)"
    )
    assert cancelled == "✅ R2 was cancelled before it ran: nothing more of it runs."
    assert len(render.api.calls_to("POST /rollback")) == 1


async def test_production_needs_a_second_person_and_never_the_requester(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    async with playbook_bot(slack_api, database_url, render, production=True) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        assert "A second responder approves it" in await said(bot, "cmd")
        waiting = await confirm(bot)
        assert "waits for a second responder's approval in the channel" in waiting
        question = channel_question(bot)
        assert question is not None  # in the channel, where Bob sees it
        run_id = approve_value(question)
        await bot.click(
            RUN_ACTIONS["approve"], run_id, user=ANA, channel=GENERAL, response_key="self"
        )
        refused = await said(bot, "self")
        assert not render.api.calls_to("POST /rollback")
        await bot.click(
            RUN_ACTIONS["approve"], run_id, user=BOB, channel=GENERAL, response_key="bob"
        )
        approved = await said(bot, "bob")
        again = await confirm(bot, key="again")
        done = await result(bot)
    assert "a second person approves it" in refused
    assert approved.startswith("✅ Approved: running R1")
    assert again.startswith("✅ R1 is already running (step ")
    assert done.startswith("✅ R1 rollback on engine: done — rolled back")


async def test_a_plan_that_no_longer_matches_render_is_not_run(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    async with playbook_bot(slack_api, database_url, render) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        render.api.add_deploy(SERVICE_ID, "live", commit_id="cccc3333", message="The fix")
        refused = await confirm(bot)
    assert "engine changed since R1 was planned" in refused
    assert not render.api.calls_to("POST /rollback")


async def test_rolling_back_a_rollback_needs_the_deploy_named(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    async with playbook_bot(slack_api, database_url, render) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        await confirm(bot)
        await result(bot)
        await bot.command("rollback engine", user=ANA, channel=GENERAL, response_key="again")
        again = await said(bot, "again")
    assert "is itself a rollback: name the deploy to go back to" in again
    assert len(render.api.calls_to("POST /rollback")) == 1


async def test_a_dry_run_shows_the_plan_and_changes_nothing_and_anyone_may_ask(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    async with playbook_bot(slack_api, database_url, render, production=True) as bot:
        await bot.command("rollback engine --dry-run", user=EVE, channel=GENERAL)
        plan = await said(bot, "cmd")
        buttons = plan_buttons(bot)
        await bot.command("rollback engine", user=EVE, channel=GENERAL, response_key="eve")
        refused = await said(bot, "eve")
    assert plan.startswith("Dry run — nothing will change.")
    assert f"Roll back to: `{render.old}`" in plan
    assert buttons == {}
    assert "Only responders" in refused
    assert [c.method for c in render.api.calls if c.method != "GET"] == []


async def test_one_run_per_service_at_a_time(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    async with playbook_bot(slack_api, database_url, render) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        await bot.command(
            "playbook run restart engine", user=BOB, channel=GENERAL, response_key="b"
        )
        busy = await said(bot, "b")
    assert busy.startswith("⚠️ engine is busy: <@U01ALICE00> has R1 (rollback, planned)")


async def test_a_bad_playbook_file_is_reported_and_the_others_load(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    (render.folder / "broken.yaml").write_text(BROKEN)
    async with playbook_bot(slack_api, database_url, render) as bot:
        await bot.command("playbook list")
        listing = await said(bot, "cmd")
        await bot.command("deploys engine", response_key="deploys")
        deploys = await said(bot, "deploys")
    assert "*restart* (3 steps)" in listing
    assert "*rollback* (4 steps)" in listing
    assert f"not loaded: {render.folder / 'broken.yaml'}:4" in listing
    assert "reboot_the_world" in listing
    assert deploys.splitlines()[1].startswith(f"• `{render.live}` live · bbbb222 Bad release")
    assert deploys.splitlines()[2].startswith(f"• `{render.old}` deactivated · aaaa111")


async def test_an_approval_step_waits_for_a_second_responder(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    (render.folder / "guarded.yaml").write_text(GUARDED)
    async with playbook_bot(slack_api, database_url, render) as bot:
        await bot.command("playbook run guarded engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        await confirm(bot)

        def question() -> dict[str, Any] | None:
            return next(
                (m for m in bot.slack.channels[GENERAL].messages if "waits:" in m["text"]), None
            )

        async def asked() -> bool:
            return question() is not None

        await until(asked)
        assert len(render.api.calls_to("POST /restart")) == 1
        states = await step_states(bot)
        assert states[:2] == [("restart", "succeeded"), ("approval", "running")]
        parked = await confirm(bot, key="parked")
        approve = next(
            e["value"]
            for b in question()["blocks"]  # type: ignore[index]
            for e in b.get("elements", [])
            if e.get("action_id") == RUN_ACTIONS["approve"]
        )
        await bot.click(
            RUN_ACTIONS["approve"], approve, user=ANA, channel=GENERAL, response_key="self"
        )
        assert "a second person approves it" in await said(bot, "self")
        await bot.click(
            RUN_ACTIONS["approve"], approve, user=BOB, channel=GENERAL, response_key="bob"
        )
        assert (await said(bot, "bob")).startswith("✅ Approved: R1 carries on.")
        done = await result(bot)
        states = await step_states(bot)
    assert parked == (
        "✅ R1 is already running (step 2 of 3: approval, waiting for a second responder's "
        "approval), confirmed by Ana."
    )
    assert done.startswith("✅ R1 guarded on engine: done — restarted; all 3 steps succeeded.")
    assert f"✅ step 2 approval: approved by <@{BOB}>" in done.splitlines()
    assert [state for _, state in states] == ["succeeded", "succeeded", "succeeded"]


async def test_resume_waits_for_the_deploy_it_makes_not_the_one_live_before(
    slack_api: FakeSlackAPI, database_url: str, render: Render
) -> None:
    render.api.services[SERVICE_ID].suspended = True
    async with playbook_bot(slack_api, database_url, render) as bot:
        await bot.command("playbook run resume engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        await confirm(bot)
        done = await result(bot)
    resumed = [d for d in render.api.deploys.values() if d.trigger == "service_resumed"]
    assert len(resumed) == 1
    assert done.startswith("✅ R1 resume on engine: done — resumed")
    assert f"✅ step 2 wait_live: {resumed[0].id} is live" in done.splitlines()
    assert render.live not in done
