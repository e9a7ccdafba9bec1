"""Playbooks end to end: the real bot driven with signed Slack requests, a local Render API
whose deploys move through statuses over time, and a local health URL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import web

from bot.config import LuciaConfig, Owner, Role, Service
from bot.slack.blocks import RUN_ACTIONS
from bot.store.tables import playbook_steps, timeline_events
from tests.conftest import Bot, free_port, running_bot, until
from tests.fakes.render_api import FakeRenderAPI
from tests.fakes.slack_api import FakeSlackAPI

ANA, BOB, EVE = "U01ALICE00", "U01BOBBY00", "U01EVE0000"
GENERAL = "C01GENERAL"
SERVICE_ID = "srv-engine0000000000000"

FAST = {
    "rollback.yaml": """
name: rollback
description: Roll back, auto-deploy off, wait until live, check health.
steps:
  - kind: rollback
  - kind: autodeploy_off
  - kind: wait_live
    timeout: 2s
    poll: 0s
  - kind: health_check
    retries: 3
    interval: 0s
""",
    "restart.yaml": """
name: restart
description: Restart and check health.
approval: auto
steps:
  - kind: restart
  - kind: health_check
    retries: 2
    interval: 0s
""",
    "resume.yaml": """
name: resume
description: Resume, wait for the deploy it makes, check health.
steps:
  - kind: resume
  - kind: wait_live
    timeout: 3s
    poll: 0s
  - kind: health_check
    retries: 2
    interval: 0s
""",
    "guarded.yaml": """
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
""",
    "broken.yaml": """
name: broken
steps:
  - kind: reboot_the_world
""",
}


class Health:
    """A service's health URL on 127.0.0.1 whose answer the test sets."""

    def __init__(self) -> None:
        self.status = 200
        self.port = free_port()

    async def handle(self, _request: web.Request) -> web.Response:
        return web.Response(status=self.status, text="ok" if self.status == 200 else "down")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"


@dataclass
class Render:
    api: FakeRenderAPI
    health: Health
    old: str  # the deploy that was live before
    live: str  # the deploy live now


@pytest.fixture
async def render(tmp_path: Path) -> AsyncIterator[Render]:
    health = Health()
    app = web.Application()
    app.router.add_get("/healthz", health.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", health.port).start()
    async with FakeRenderAPI(rollback_seconds=0.2) as api:
        api.add_service(SERVICE_ID, "engine")
        now = datetime.now(UTC)
        old = api.add_deploy(
            SERVICE_ID,
            "deactivated",
            created_at=now - timedelta(hours=2),
            commit_id="aaaa1111",
            message="Good release",
        )
        live = api.add_deploy(
            SERVICE_ID,
            "live",
            created_at=now - timedelta(hours=1),
            commit_id="bbbb2222",
            message="Bad release",
        )
        for name, text in FAST.items():
            (tmp_path / name).write_text(text)
        yield Render(api, health, old.id, live.id)
    await runner.cleanup()


@asynccontextmanager
async def playbook_bot(
    slack: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path, *, production: bool
) -> AsyncIterator[Bot]:
    config = LuciaConfig(
        owners={
            Role.OWNER: Owner(name="Ana", slack=ANA),
            Role.INFRA: Owner(name="Bob", slack=BOB),
        },
        services={
            "engine": Service(
                render_service_id=SERVICE_ID, health_url=render.health.url, production=production
            )
        },
    )
    env = {
        "RENDER_API_KEY": render.api.api_key,
        "RENDER_API_URL": render.api.url,
        "LUCIA_PLAYBOOKS": str(tmp_path),
    }
    async with running_bot(slack, database_url, config, **env) as bot:
        yield bot


async def said(bot: Bot, key: str) -> str:
    """The last answer for `key`. (Not `settle`: a run parked on an approval step is
    background work that only ends after the answer being waited for here.)"""

    async def answered() -> bool:
        return bool(await bot.answers(key))

    await until(answered)
    return (await bot.answers(key))[-1]


def general(bot: Bot) -> list[str]:
    return [m["text"] for m in bot.slack.channels[GENERAL].messages]


async def result(bot: Bot) -> str:
    async def finished() -> bool:
        return any(t.startswith(("✅ R", "❌ R", "⚠️ R")) for t in general(bot))

    await until(finished)
    return next(t for t in general(bot) if t.startswith(("✅ R", "❌ R", "⚠️ R")))


def plan_buttons(bot: Bot, key: str = "cmd") -> dict[str, str]:
    """action_id → value of the buttons on the last answer for `key`."""
    post = [p for p in bot.slack.response_posts if p.key == key][-1]
    buttons: dict[str, str] = {}
    for block in post.body.get("blocks", []):
        for element in block.get("elements", []):
            buttons[element["action_id"]] = element["value"]
    return buttons


async def confirm(bot: Bot, user: str = ANA, key: str = "confirm") -> str:
    run_id = plan_buttons(bot)[RUN_ACTIONS["confirm"]]
    await bot.click(RUN_ACTIONS["confirm"], run_id, user=user, channel=GENERAL, response_key=key)
    return await said(bot, key)


async def step_states(bot: Bot) -> list[tuple[str, str]]:
    async with bot.runtime.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(playbook_steps.c.kind, playbook_steps.c.state).order_by(
                playbook_steps.c.index
            )
        )
        return [(str(k), str(s)) for k, s in rows]


async def test_a_rollback_is_called_done_only_when_live_and_healthy(
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=False) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        plan = await said(bot, "cmd")
        assert f"Live now: `{render.live}` (bbbb222 Bad release)" in plan
        assert f"Roll back to: `{render.old}` (aaaa111 Good release)" in plan
        assert set(plan_buttons(bot)) == {RUN_ACTIONS["confirm"], RUN_ACTIONS["cancel"]}
        assert not render.api.calls_to("POST /rollback")  # nothing changes before Confirm
        assert (await confirm(bot)).startswith("✅ Running R1")
        done = await result(bot)
        states = await step_states(bot)
    assert done.startswith(f"✅ R1 rollback on engine: rolled back to `{render.old}`")
    assert "Render reports it live, and healthy" in done
    assert "Auto-deploy is off" in done
    assert states == [
        ("rollback", "succeeded"),
        ("autodeploy_off", "succeeded"),
        ("wait_live", "succeeded"),
        ("health_check", "succeeded"),
    ]
    (rollback,) = render.api.calls_to("POST /rollback")
    assert rollback.json == {"deployId": render.old}
    assert render.api.services[SERVICE_ID].auto_deploy_trigger == "off"


@pytest.mark.parametrize(
    ("arrange", "says", "states"),
    [
        (
            lambda r: r.api.next_rollback("update_failed"),
            "❌ R1 rollback on engine: FAILED at step 3 (wait_live)",
            ["succeeded", "succeeded", "failed", "skipped"],
        ),
        (
            lambda r: setattr(r.health, "status", 503),
            "⚠️ R1 rollback on engine: NOT CONFIRMED at step 4 (health_check)",
            ["succeeded", "succeeded", "succeeded", "failed"],
        ),
        (
            lambda r: r.api.next_rollback(None),  # never finishes
            "⚠️ R1 rollback on engine: NOT CONFIRMED at step 3 (wait_live): not confirmed: "
            "not live after 2 s",
            ["succeeded", "succeeded", "failed", "skipped"],
        ),
        (
            lambda r: r.api.fail_next("POST /rollback", 500),
            "❌ R1 rollback on engine: FAILED at step 1 (rollback): Render: Render failed (500)",
            ["failed", "skipped", "skipped", "skipped"],
        ),
    ],
    ids=["update_failed", "unhealthy", "never-live", "render-500"],
)
async def test_the_result_never_claims_more_than_the_steps_proved(
    slack_api: FakeSlackAPI,
    database_url: str,
    render: Render,
    tmp_path: Path,
    arrange: Any,
    says: str,
    states: list[str],
) -> None:
    arrange(render)
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=False) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        await confirm(bot)
        done = await result(bot)
        stored = [state for _, state in await step_states(bot)]
    assert done.startswith(says)
    assert stored == states
    assert len(render.api.calls_to("POST /rollback")) == 1  # a POST is never repeated


async def test_render_429s_mid_run_are_waited_out_and_the_steps_go_on_the_incident_timeline(
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=False) as bot:
        await bot.command("incident open sev1 Engine down", user=ANA, channel=GENERAL)
        await bot.settle()
        channel = next(c for c in bot.slack.channels.values() if c.name.startswith("inc-1")).id
        await bot.command("rollback engine", user=ANA, channel=channel, response_key="plan")
        await said(bot, "plan")
        render.api.fail_next("GET", 429, retry_after=0.2, times=2)
        run_id = plan_buttons(bot, "plan")[RUN_ACTIONS["confirm"]]
        await bot.click(RUN_ACTIONS["confirm"], run_id, user=ANA, channel=channel, response_key="c")
        await said(bot, "c")

        async def finished() -> bool:
            texts = [m["text"] for m in bot.slack.channels[channel].messages]
            return any(t.startswith("✅ R1") for t in texts)

        await until(finished)
        async with bot.runtime.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(timeline_events.c.text)
                .where(timeline_events.c.kind == "playbook")
                .order_by(timeline_events.c.id)
            )
            steps = [str(r[0]) for r in rows]
    assert [c.status for c in render.api.calls if c.status == 429] == [429, 429]
    assert steps[0].startswith("R1 rollback step 1 rollback: succeeded")
    assert steps[-1].startswith("R1 rollback step 4 health_check: succeeded")
    assert len(steps) == 4


async def test_a_double_click_on_confirm_runs_once(
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=False) as bot:
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
        answers = [await said(bot, "one"), await said(bot, "two")]
    assert len(render.api.calls_to("POST /rollback")) == 1
    assert sum("confirmed once, run once" in a for a in answers) == 1


def channel_question(bot: Bot, channel: str = GENERAL) -> dict[str, Any] | None:
    """The run's question posted in the channel (with its Approve button), if any."""
    return next(
        (
            m
            for m in bot.slack.channels[channel].messages
            if "second responder approves" in m["text"]
        ),
        None,
    )


def approve_value(message: dict[str, Any]) -> str:
    return next(
        e["value"]
        for b in message["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == RUN_ACTIONS["approve"]
    )


async def test_production_needs_a_second_person_and_never_the_requester(
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=True) as bot:
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
        done = await result(bot)
    assert "a second person approves it" in refused
    assert approved.startswith("✅ Approved: running R1")
    assert done.startswith("✅ R1 rollback on engine: rolled back")


async def test_a_plan_that_no_longer_matches_render_is_not_run(
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=False) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        render.api.add_deploy(SERVICE_ID, "live", commit_id="cccc3333", message="The fix")
        refused = await confirm(bot)
    assert "engine changed since R1 was planned" in refused
    assert not render.api.calls_to("POST /rollback")


async def test_rolling_back_a_rollback_needs_the_deploy_named(
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=False) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        await confirm(bot)
        await result(bot)
        await bot.command("rollback engine", user=ANA, channel=GENERAL, response_key="again")
        again = await said(bot, "again")
    assert "is itself a rollback: name the deploy to go back to" in again
    assert len(render.api.calls_to("POST /rollback")) == 1


async def test_a_dry_run_shows_the_plan_and_changes_nothing_and_anyone_may_ask(
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=True) as bot:
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
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=False) as bot:
        await bot.command("rollback engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        await bot.command(
            "playbook run restart engine", user=BOB, channel=GENERAL, response_key="b"
        )
        busy = await said(bot, "b")
    assert busy.startswith("⚠️ engine is busy: <@U01ALICE00> has R1 (rollback, planned)")


async def test_a_bad_playbook_file_is_reported_and_the_others_load(
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=False) as bot:
        await bot.command("playbook list")
        listing = await said(bot, "cmd")
        await bot.command("deploys engine", response_key="deploys")
        deploys = await said(bot, "deploys")
    assert "*restart* (2 steps)" in listing
    assert "*rollback* (4 steps)" in listing
    assert f"not loaded: {tmp_path / 'broken.yaml'}:4" in listing
    assert "reboot_the_world" in listing
    assert deploys.splitlines()[1].startswith(f"• `{render.live}` live · bbbb222 Bad release")
    assert deploys.splitlines()[2].startswith(f"• `{render.old}` deactivated · aaaa111")


async def test_an_approval_step_waits_for_a_second_responder(
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=False) as bot:
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
    assert done.startswith("✅ R1 guarded on engine: done")
    assert f"approved by <@{BOB}>" in done
    assert [state for _, state in states] == ["succeeded", "succeeded", "succeeded"]


async def test_resume_waits_for_the_deploy_it_makes_not_the_one_live_before(
    slack_api: FakeSlackAPI, database_url: str, render: Render, tmp_path: Path
) -> None:
    render.api.services[SERVICE_ID].suspended = True
    async with playbook_bot(slack_api, database_url, render, tmp_path, production=False) as bot:
        await bot.command("playbook run resume engine", user=ANA, channel=GENERAL)
        await said(bot, "cmd")
        await confirm(bot)
        done = await result(bot)
    resumed = [d for d in render.api.deploys.values() if d.trigger == "service_resumed"]
    assert len(resumed) == 1
    assert done.startswith("✅ R1 resume on engine: done")
    assert f"{resumed[0].id} is live" in done
    assert render.live not in done
