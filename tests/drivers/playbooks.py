"""What the playbook tests share: a local Render API (tests/fakes/render_api.py) with a
service whose previous deploy is good and whose live one is bad (`Render`, started by the
`render` fixture in tests/playbooks/conftest.py), a local health URL whose answers the test
sets, the real bot driven with signed Slack requests, and ways to read what it said and
stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from aiohttp import web

from bot.config import LuciaConfig, Owner, Service
from bot.slack.views.ids import RUN_ACTIONS
from bot.store.tables import playbook_runs, playbook_steps
from bot.vocabulary import Role
from tests.drivers.bot import Bot, running_bot
from tests.drivers.ports import free_port
from tests.drivers.waiting import until
from tests.fakes.render_api import FakeRenderAPI
from tests.fakes.slack_api import FakeSlackAPI

ANA, BOB, EVE = "U01ALICE00", "U01BOBBY00", "U01EVE0000"
GENERAL = "C01GENERAL"
SERVICE_ID = "srv-engine0000000000000"
DASHBOARD = f"https://dashboard.render.com/web/{SERVICE_ID}"
SHIPPED = Path(__file__).resolve().parents[2] / "playbooks"
RESULT_MARKS = ("✅ R", "❌ R", "⚠️ R")


class Health:
    """A service's health URL on 127.0.0.1. It answers `answers` in turn, then `status`;
    `on_probe` runs at each probe (to change Render between the steps and the end)."""

    def __init__(self) -> None:
        self.status = 200
        self.answers: list[int] = []
        self.on_probe: Callable[[], None] | None = None
        self.port = free_port()

    async def handle(self, _request: web.Request) -> web.Response:
        if self.on_probe is not None:
            self.on_probe()
        status = self.answers.pop(0) if self.answers else self.status
        return web.Response(status=status, text="ok" if status == 200 else "down")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"


@dataclass
class Render:
    api: FakeRenderAPI
    health: Health
    old: str  # the deploy that was live before
    live: str  # the deploy live now
    folder: Path  # the playbooks the bot loads
    files: dict[str, str] = field(default_factory=dict)

    def made(self, trigger: str, nth: int = 0) -> str:
        """The id of the `nth` deploy the run made with this trigger (rollback, api, …)."""
        made = [d for d in self.api.deploys.values() if d.trigger == trigger]
        made.sort(key=lambda d: d.born)
        return made[nth].id


def fast_copy(text: str) -> str:
    """A playbook with its steps and their order kept, and its waits made short."""
    data = yaml.safe_load(text)
    for step in data["steps"]:
        match step["kind"]:
            case "wait_live":
                step |= {"timeout": "2s", "poll": "0s"}
            case "health_check":
                step |= {"retries": 2, "interval": "0s"}
            case "pause":
                step["wait"] = "0s"
            case "approval":
                step["timeout"] = "10s"
    return yaml.safe_dump(data, sort_keys=False)


def shipped_playbooks() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(SHIPPED.glob("*.yaml"))}


def lucia_config(render: Render, *, production: bool) -> LuciaConfig:
    return LuciaConfig(
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


@asynccontextmanager
async def playbook_bot(
    slack: FakeSlackAPI, database_url: str, render: Render, *, production: bool = False
) -> AsyncIterator[Bot]:
    env = {
        "RENDER_API_KEY": render.api.api_key,
        "RENDER_API_URL": render.api.url,
        "LUCIA_PLAYBOOKS": str(render.folder),
    }
    config = lucia_config(render, production=production)
    async with running_bot(slack, database_url, config, **env) as bot:
        yield bot


async def said(bot: Bot, key: str) -> str:
    """The last answer for `key`. (Not `settle`: a run parked on an approval step is
    background work that only ends after the answer being waited for here.)"""

    async def answered() -> bool:
        return bool(await bot.answers(key))

    await until(answered)
    return (await bot.answers(key))[-1]


def messages(bot: Bot, channel: str = GENERAL) -> list[str]:
    return [m["text"] for m in bot.slack.channels[channel].messages]


async def result(bot: Bot, channel: str = GENERAL) -> str:
    """The run's result message in the channel it was asked in."""

    async def finished() -> bool:
        return any(t.startswith(RESULT_MARKS) for t in messages(bot, channel))

    await until(finished)
    return next(t for t in messages(bot, channel) if t.startswith(RESULT_MARKS))


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
        str(e["value"])
        for b in message["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == RUN_ACTIONS["approve"]
    )


async def step_states(bot: Bot) -> list[tuple[str, str]]:
    async with bot.runtime.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(playbook_steps.c.kind, playbook_steps.c.state).order_by(
                playbook_steps.c.index
            )
        )
        return [(str(k), str(s)) for k, s in rows]


async def stored_result(bot: Bot, run_id: int = 1) -> tuple[str, str]:
    """(state, result) of the stored run."""
    async with bot.runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(playbook_runs.c.state, playbook_runs.c.result).where(
                    playbook_runs.c.id == run_id
                )
            )
        ).one()
    return str(row[0]), str(row[1])
