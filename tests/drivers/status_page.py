"""What the status page tests share: a lucia.yaml with two components and its responders
(Ana, an owner; Bob, an admin; Eve is neither), the real runtime on a clock the test
moves (`status_desk`), and ways to read a preview's buttons and what the page says."""

from __future__ import annotations

__all__ = [
    "ANA",
    "BOB",
    "EVE",
    "NOW",
    "StatusDesk",
    "buttons",
    "page_texts",
    "said",
    "status_config",
    "status_desk",
    "status_events",
]

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.app import Runtime, build_runtime
from bot.config import LuciaConfig, Owner, StatusComponent, StatusPageConfig
from bot.console.chat import ConsoleChat
from bot.desk import Answer
from bot.grammar import parse
from bot.settings import load_settings
from bot.status.page import PageView
from bot.store.tables import timeline_events
from bot.vocabulary import Invocation, Role
from tests.drivers.bot import Bot
from tests.drivers.core import FakeClock
from tests.drivers.waiting import until

ANA, BOB, EVE = "U01ALICE00", "U01BOBBY00", "U01EVE0000"
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def status_config() -> LuciaConfig:
    return LuciaConfig(
        owners={Role.OWNER: Owner(name="Ana", slack=ANA)},
        admins=[BOB],
        status_page=StatusPageConfig(
            name="Lucia",
            components=[
                StatusComponent(id="engine", name="Engine (API)", group="Platform"),
                StatusComponent(id="admin", name="Admin", group="Platform"),
            ],
        ),
    )


@dataclass
class StatusDesk:
    """The real runtime (as `build_runtime` wires it, on the test's database) with a clock
    that moves only when the test says, and the console's chat."""

    runtime: Runtime
    clock: FakeClock
    console: list[str] = field(default_factory=list)  # what the chat showed in channels

    async def say(self, text: str, user: str = ANA, channel: str | None = None) -> Answer:
        return await self.runtime.desk.run(parse(text), Invocation(actor=user, channel_id=channel))

    async def page(self) -> PageView:
        return await self.runtime.desk.status.view()


@asynccontextmanager
async def status_desk(database_url: str, **env: str) -> AsyncIterator[StatusDesk]:
    """`env`: more settings (a Cloudflare to purge, a public URL)."""
    clock = FakeClock(NOW)
    lines: list[str] = []
    runtime = await build_runtime(
        load_settings({"DATABASE_URL": database_url, **env}),
        status_config(),
        ConsoleChat(lines.append),
        clock=clock,
    )
    try:
        yield StatusDesk(runtime, clock, lines)
    finally:
        await runtime.close()


async def said(bot: Bot, key: str) -> str:
    """The last answer sent through the response_url `key`."""

    async def answered() -> bool:
        return bool(await bot.answers(key))

    await until(answered)
    return (await bot.answers(key))[-1]


def buttons(bot: Bot, key: str) -> dict[str, str]:
    """action_id → value of the buttons on the last answer for `key`."""
    post = [p for p in bot.slack.response_posts if p.key == key][-1]
    return {
        element["action_id"]: element["value"]
        for block in post.body.get("blocks", [])
        for element in block.get("elements", [])
        if "action_id" in element
    }


def page_texts(page: PageView) -> list[str]:
    """Every public word of the page's incidents: names, impacts, update bodies."""
    return [
        text
        for incident in page.history
        for text in (incident.name, incident.impact, *(u.body for u in incident.updates))
    ]


async def status_events(runtime: Runtime) -> list[tuple[str, str]]:
    """(actor, text) of each status_page event on the timelines, oldest first."""
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            sa.select(timeline_events.c.actor, timeline_events.c.text)
            .where(timeline_events.c.kind == "status_page")
            .order_by(timeline_events.c.id)
        )
        return [(str(a), str(t)) for a, t in rows]
