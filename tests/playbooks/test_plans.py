"""A dry run on a bot without Render (no RENDER_API_KEY): anyone may ask, and the answer
says what the playbook would do from its file and lucia.yaml's `services:` entry — never
what only Render knows — and what it takes to run it for real. The real bot, driven with
signed Slack requests; the shipped playbooks as they are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.config import LuciaConfig, Owner, Service
from bot.store.tables import playbook_runs
from bot.vocabulary import Role
from tests.drivers.bot import Bot, running_bot
from tests.drivers.playbooks import ANA, EVE, GENERAL, SERVICE_ID, said, shipped_playbooks
from tests.fakes.slack_api import FakeSlackAPI

ADMIN_ID = "srv-admin0000000000000"
HEALTH = "https://engine.lucia.example/healthz"
KEY_HELP = (
    "set RENDER_API_KEY in the bot's environment (create a key in the Render dashboard → "
    "Account Settings → API Keys) and restart the bot"
)
FOR_REAL = (
    f"To run it for real: {KEY_HELP}; then a responder (a launch-gate owner, an admin or one "
    "of playbooks.responders in lucia.yaml) runs it again without --dry-run."
)
# Every kind of step, with values of its own, so each line says what its file says.
EVERY_STEP = """
name: everything
description: One of each step.
approval: always
steps:
  - kind: slack_message
    text: Starting on {service}.
  - kind: approval
    message: Logs look clean?
    timeout: 5m
  - kind: suspend
  - kind: resume
  - kind: restart
  - kind: pause
    wait: 30s
  - kind: deploy
    commit: deadbeef
  - kind: wait_live
    timeout: 90s
  - kind: health_check
    url: https://status.lucia.example/ping
    expect_status: 204
    expect_body: pong
    retries: 1
    interval: 3s
"""


@asynccontextmanager
async def bot_without_render(
    slack: FakeSlackAPI, database_url: str, folder: Path
) -> AsyncIterator[Bot]:
    config = LuciaConfig(
        owners={Role.OWNER: Owner(name="Ana", slack=ANA)},
        services={
            "engine": Service(render_service_id=SERVICE_ID, health_url=HEALTH, production=False),
            "admin": Service(render_service_id=ADMIN_ID),  # production, no health URL
        },
    )
    async with running_bot(slack, database_url, config, LUCIA_PLAYBOOKS=str(folder)) as bot:
        yield bot


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    for name, text in shipped_playbooks().items():
        (folder / name).write_text(text)
    (folder / "everything.yaml").write_text(EVERY_STEP)
    return folder


async def stored_runs(bot: Bot) -> int:
    async with bot.runtime.engine.connect() as conn:
        return int(
            (await conn.execute(sa.select(sa.func.count()).select_from(playbook_runs))).one()[0]
        )


async def ask(bot: Bot, text: str, user: str = EVE) -> str:
    await bot.command(text, user=user, channel=GENERAL, response_key=text)
    return await said(bot, text)


async def test_a_rollback_dry_run_explains_the_plan_and_what_it_needs(
    slack_api: FakeSlackAPI, database_url: str, folder: Path
) -> None:
    async with bot_without_render(slack_api, database_url, folder) as bot:
        answer = await ask(bot, "rollback engine --dry-run")  # Eve is no responder
        runs = await stored_runs(bot)
    assert answer == "\n".join(
        [
            "✅ Dry run — nothing will change, and nothing was read from Render: this bot has "
            "no RENDER_API_KEY.",
            f"rollback on engine would act on Render service {SERVICE_ID} (services.engine in "
            "lucia.yaml).",
            "Live now: unknown without Render.",
            "Roll back to: the previous live deploy (unknown without Render).",
            "Steps:",
            "1. rollback: roll engine back to the previous live deploy (unknown without Render)",
            "2. autodeploy_off: turn auto-deploy off, so the next push doesn't ship by itself",
            "3. wait_live: wait up to 20 min until Render reports the new deploy live",
            f"4. health_check: GET {HEALTH} until it answers 200 (6 tries, 10 s apart)",
            "Approval: the requester's Confirm is enough (engine isn't a production service "
            "in lucia.yaml).",
            "With Render, the plan would first read engine and its last 50 deploys, refuse it "
            "if it is suspended, and name the deploys it acts on, with their commits, before "
            "anything changes.",
            FOR_REAL,
        ]
    )
    assert "isn't configured" not in answer
    assert runs == 0  # nothing fixed, so nothing stored: a plan names real deploys


async def test_a_named_deploy_on_a_production_service_says_it_is_unchecked_and_needs_a_second(
    slack_api: FakeSlackAPI, database_url: str, folder: Path
) -> None:
    async with bot_without_render(slack_api, database_url, folder) as bot:
        answer = await ask(bot, "rollback admin dep-abc123 --dry-run")
    lines = answer.splitlines()
    assert (
        "Roll back to: dep-abc123, as given (not checked without Render: a real plan refuses "
        "it unless it is one of the last 50 deploys and not the live one)."
    ) in lines
    assert lines[1] == (
        f"rollback on admin would act on Render service {ADMIN_ID} (services.admin in lucia.yaml)."
    )
    assert (
        "4. health_check: no health URL, so the check would fail: set "
        "services.admin.health_url in lucia.yaml"
    ) in lines
    assert (
        "Approval: a second responder approves it after the requester confirms (admin is a "
        "production service in lucia.yaml)."
    ) in lines
    assert lines[-1] == FOR_REAL


async def test_every_kind_of_step_is_told_as_its_file_says(
    slack_api: FakeSlackAPI, database_url: str, folder: Path
) -> None:
    async with bot_without_render(slack_api, database_url, folder) as bot:
        answer = await ask(bot, "playbook run everything engine --dry-run")
    lines = answer.splitlines()
    steps = lines[lines.index("Steps:") + 1 : lines.index("Steps:") + 10]
    assert steps == [
        "1. slack_message: post in the channel: Starting on engine.",
        "2. approval: wait up to 5 min for a second responder's approval: Logs look clean?",
        "3. suspend: suspend engine: it stops serving",
        "4. resume: resume engine, which makes a new deploy",
        "5. restart: restart engine's instances (same deploy)",
        "6. pause: wait 30 s",
        "7. deploy: deploy commit deadbeef",
        "8. wait_live: wait up to 90 s until Render reports the new deploy live",
        "9. health_check: GET https://status.lucia.example/ping until it answers 204 with "
        "“pong” in its body (1 try, 3 s apart)",
    ]
    assert "Deploy: commit deadbeef." in lines
    assert not [line for line in lines if line.startswith("Roll back to")]
    assert (
        "Approval: a second responder approves it after the requester confirms (the "
        "everything playbook asks for it on every run)."
    ) in lines
    # It resumes, so a suspended service isn't refused.
    assert (
        "With Render, the plan would first read engine and its last 50 deploys, and name the "
        "deploys it acts on, with their commits, before anything changes."
    ) in lines


@pytest.mark.parametrize(
    ("text", "deploy"),
    [
        (
            "playbook run redeploy engine --dry-run",
            "Deploy: the head of the service's branch, as Render builds it.",
        ),
        ("playbook run redeploy engine cafe123 --dry-run", "Deploy: commit cafe123."),
        (
            "playbook run drill engine --dry-run",  # back, then forward to what was live
            "Deploy: forward again to the commit that was live before the run (unknown "
            "without Render).",
        ),
    ],
)
async def test_a_deploy_says_which_commit_it_would_ship(
    slack_api: FakeSlackAPI, database_url: str, folder: Path, text: str, deploy: str
) -> None:
    async with bot_without_render(slack_api, database_url, folder) as bot:
        answer = await ask(bot, text)
    assert deploy in answer.splitlines()


async def test_the_bots_own_service_is_named_as_refused(
    slack_api: FakeSlackAPI, database_url: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RENDER_SERVICE_ID", SERVICE_ID)  # Render sets it on the bot's service
    async with bot_without_render(slack_api, database_url, folder) as bot:
        answer = await ask(bot, "playbook run restart engine --dry-run")
    assert (
        f"{SERVICE_ID} is this bot's own service (RENDER_SERVICE_ID): a real run is refused; "
        "act on it from Render's dashboard."
    ) in answer.splitlines()


async def test_a_real_run_without_render_says_what_is_needed_and_offers_the_dry_run(
    slack_api: FakeSlackAPI, database_url: str, folder: Path
) -> None:
    async with bot_without_render(slack_api, database_url, folder) as bot:
        refused = await ask(bot, "rollback engine", user=ANA)
        eve = await ask(bot, "playbook run restart engine", user=EVE)
        unknown = await ask(bot, "rollback nowhere --dry-run")
        runs = await stored_runs(bot)
    assert refused == (
        f"⚠️ Render isn't configured on this bot: {KEY_HELP}. Anyone may add --dry-run to see "
        "what a playbook would do without it."
    )
    assert "Only responders" in eve  # who may run it comes first, Render or not
    assert unknown == "⚠️ There is no service `nowhere` (admin, engine)."
    assert runs == 0
