"""The public status page as its tests drive it: a lucia.yaml with two components in one
group, `/lucia status …` said through the real desk by an admin (drafts confirmed like the
Publish button), a made-up history written through the real store before the bot starts,
and the page's routes fetched with their caching headers."""

from __future__ import annotations

__all__ = [
    "ADMIN",
    "ENGINE",
    "GROUP",
    "INTERNAL_TITLE",
    "PAGE_URL",
    "ROUTES",
    "Fetched",
    "fetch",
    "publish",
    "say",
    "seed_history",
    "status_config",
]

from dataclasses import dataclass
from datetime import datetime, timedelta

from multidict import CIMultiDict

from bot.config import LuciaConfig, StatusComponent, StatusPageConfig
from bot.desk import Answer
from bot.grammar import parse
from bot.status.model import ComponentState, Phase
from bot.status.replies import StatusPreview
from bot.store.database import create_engine, driver_url
from bot.store.migrate import upgrade
from bot.store.status_store import SqlStatusStore
from bot.vocabulary import Invocation
from tests.drivers.bot import Bot

ADMIN = "U01ALICE00"
PAGE_URL = "https://status.lucia.example"
ENGINE, ADMIN_APP = "engine", "admin"
GROUP = "Platform"
ENGINE_DESCRIPTION = "The API behind the app"
# What the responders call it inside: it must never reach the public page.
INTERNAL_TITLE = "Primary Postgres OOM-killed after pgbouncer misconfig"

ROUTES = (
    "/status",
    "/status/history",
    "/history.atom",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
)


def status_config(url: str | None = PAGE_URL) -> LuciaConfig:
    return LuciaConfig(
        admins=[ADMIN],
        status_page=StatusPageConfig(
            name="Lucia",
            url=url,
            components=[
                StatusComponent(
                    id=ENGINE, name="Engine (API)", group=GROUP, description=ENGINE_DESCRIPTION
                ),
                StatusComponent(id=ADMIN_APP, name="Admin", group=GROUP),
            ],
        ),
    )


async def say(bot: Bot, text: str, actor: str = ADMIN) -> Answer:
    """`/lucia <text>`, through the real grammar and desk."""
    return await bot.runtime.desk.run(parse(text), Invocation(actor))


async def publish(bot: Bot, text: str) -> Answer:
    """A status change and its draft's Publish."""
    preview = await say(bot, text)
    assert isinstance(preview, StatusPreview), preview
    return await say(bot, f"status confirm D{preview.draft_id}")


async def seed_history(
    database_url: str,
    watched: datetime,
    outages: list[tuple[datetime, timedelta, dict[str, ComponentState]]],
) -> None:
    """Before the bot starts: the components watched since `watched`, then each outage
    published (and resolved after its duration) through the real store, at its own time."""
    engine = create_engine(driver_url(database_url))
    try:
        await upgrade(engine)
        store = SqlStatusStore(engine)
        await store.watch([ENGINE, ADMIN_APP], watched)
        for n, (at, lasted, states) in enumerate(outages, 1):
            opened = await store.publish(
                incident_id=None,
                name=f"Past outage {n}",
                phase=Phase.INVESTIGATING,
                body=f"Past outage {n}: we are looking into it.",
                components=states,
                number=None,
                by=ADMIN,
                at=at,
                event=None,
            )
            await store.publish(
                incident_id=opened.id,
                name=opened.name,
                phase=Phase.RESOLVED,
                body=f"Past outage {n} is over.",
                components={c: ComponentState.OPERATIONAL for c in states},
                number=None,
                by=ADMIN,
                at=at + lasted,
                event=None,
            )
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: CIMultiDict[str]  # the names as any case
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


async def fetch(bot: Bot, path: str, **headers: str) -> Fetched:
    async with bot.client.get(path, headers=headers) as response:
        return Fetched(response.status, CIMultiDict(response.headers), await response.read())
