"""The core tier's bot: the real services wired as `bot.app.build_runtime` wires them, on
SQLite in a temporary folder, with a clock the test moves by hand and stand-ins for Slack
and the notifiers that record what they were asked to show. Time passes only when the test
says so (`clock.advance`, `clock.move_to`), and due work runs only when the test calls it
(`tick`)."""

from __future__ import annotations

__all__ = ["NOW", "Core", "FakeClock", "Notice", "Paged", "core_bot"]

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.alerts.model import AlertGroup, GroupStatus, NoticeTiming
from bot.alerts.model import Notice as StoredNotice
from bot.alerts.notices import NoticeBoard
from bot.alerts.routing import IncidentRouter
from bot.alerts.service import AlertService
from bot.config import LuciaConfig
from bot.console.chat import ConsoleChat
from bot.grammar import parse
from bot.incidents.ports import Posted
from bot.incidents.service import IncidentService
from bot.paging.plain import plain_title
from bot.paging.ports import Contact, PageMessage
from bot.paging.reach import PagingReach
from bot.paging.service import PagingService
from bot.sentry.payloads import read_delivery
from bot.store.alert_store import SqlAlertStore
from bot.store.database import create_engine, driver_url
from bot.store.incident_store import SqlIncidentStore
from bot.store.migrate import upgrade
from bot.store.paging_store import SqlPagingStore
from bot.vocabulary import Invocation

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
ALERTS_CHANNEL = "alerts"


class FakeClock:
    """The services' clock: it says `now` until the test moves it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.start = now
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        assert seconds >= 0, "time only moves forward"
        self.now += timedelta(seconds=seconds)
        return self.now

    def move_to(self, second: float) -> datetime:
        """To `second` seconds after the clock started (never back)."""
        return self.advance(second - self.elapsed(self.now))

    def elapsed(self, at: datetime) -> float:
        """How many seconds after the clock started `at` is."""
        return (at - self.start).total_seconds()


@dataclass(frozen=True)
class Paged:
    """One page a notifier was asked to send: to whom, when, and its title."""

    at: datetime
    name: str
    title: str


class RecordingNotifier:
    """The `Notifier` port, reaching everyone: a stand-in for Slack DMs, e-mail and push
    that records each page it is asked to send."""

    channel = "email"

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.sent: list[Paged] = []

    def reaches(self, contact: Contact, page: PageMessage) -> bool:
        return True

    async def send(self, contact: Contact, page: PageMessage) -> str:
        self.sent.append(Paged(self._clock(), contact.name, plain_title(page)))
        return f"sent-{len(self.sent)}"


@dataclass(frozen=True)
class Notice:
    """What the alerts channel showed after one post or update of a notice message."""

    at: datetime
    message: str  # the message's id: one per notice
    firing: int
    resolved: int
    titles: tuple[str, ...]
    counts: tuple[int, ...]  # how many times each alert group was seen, in `titles`' order


@dataclass
class RecordingAlertChat:
    """The `AlertChat` port: every post and update of an alerts-channel message, in order."""

    clock: FakeClock
    shown: list[Notice] = field(default_factory=list)

    async def post_notice(
        self, channel: str, notice: StoredNotice, groups: Sequence[AlertGroup]
    ) -> Posted:
        message = f"m{len({n.message for n in self.shown}) + 1}"
        self._show(message, groups)
        return Posted(channel, message)

    async def update_notice(
        self, channel_id: str, message_ts: str, notice: StoredNotice, groups: Sequence[AlertGroup]
    ) -> None:
        self._show(message_ts, groups)

    def _show(self, message: str, groups: Sequence[AlertGroup]) -> None:
        firing = sum(g.status is GroupStatus.FIRING for g in groups)
        titles = tuple(g.title for g in groups)
        counts = tuple(g.count for g in groups)
        resolved = len(groups) - firing
        self.shown.append(Notice(self.clock(), message, firing, resolved, titles, counts))


@dataclass
class Core:
    clock: FakeClock
    incidents: IncidentService
    alerts: AlertService
    board: NoticeBoard
    router: IncidentRouter
    paging: PagingService
    notifier: RecordingNotifier
    alert_chat: RecordingAlertChat
    said: list[str]  # what the console chat printed in the incident channels

    async def command(self, text: str, actor: str, channel: str | None = None) -> object:
        """`/lucia <text>` as typed by `actor`, answered by the service that owns it."""
        command = parse(text)
        inv = Invocation(actor, channel)
        for service in (self.incidents, self.paging, self.alerts):
            if isinstance(command, service.handles):
                return await service.run(command, inv)  # type: ignore[arg-type]
        raise AssertionError(f"no core service answers {command!r}")

    async def sentry(self, body: bytes, resource: str) -> None:
        """A Sentry webhook, kept as the server keeps it (the reader runs at `tick`)."""
        await self.alerts.keep("sentry", resource, body)

    async def tick(self) -> None:
        """Every due-work method once, in the order the wake-ups kick them. The server
        reads a delivery as soon as it is kept: a test ticks right after `sentry`."""
        await self.alerts.drain()
        await self.router.open_pending()
        await self.board.send_due()
        await self.paging.escalate()
        await self.paging.send_pages()

    def paged(self) -> list[str]:
        return [p.name for p in self.notifier.sent]

    def paged_at(self) -> list[tuple[float, str]]:
        """Each page sent so far: when (seconds after the clock started) and to whom."""
        return [(self.clock.elapsed(p.at), p.name) for p in self.notifier.sent]

    def channel_shows(self, text: str) -> bool:
        """Whether the incident channel was shown a line containing `text`."""
        return any(text in line for line in self.said)


_SCHEMA: list[bytes] = []  # a SQLite file migrated to head, once per test process


async def _migrated(database: Path) -> None:
    """A SQLite file at `database` with the schema `lucia-bot migrate` makes: migrated the
    first time, a copy of that file after (the migrations cost more than a test)."""
    if _SCHEMA:
        await asyncio.to_thread(database.write_bytes, _SCHEMA[0])
        return
    engine = create_engine(driver_url(f"sqlite:///{database}"))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    _SCHEMA.append(await asyncio.to_thread(_read_checkpointed, database))


def _read_checkpointed(database: Path) -> bytes:
    """The file's bytes, once its engine is gone (nothing left in a `-wal` beside it)."""
    assert not database.with_name(f"{database.name}-wal").exists(), "not checkpointed"
    return database.read_bytes()


@asynccontextmanager
async def core_bot(tmp_path: Path, config: LuciaConfig) -> AsyncIterator[Core]:
    """The core services over a migrated SQLite file in `tmp_path`, wired like `build_runtime`."""
    clock = FakeClock()
    database = tmp_path / "core.db"
    await _migrated(database)
    engine = create_engine(driver_url(f"sqlite:///{database}"))
    try:
        said: list[str] = []
        chat = ConsoleChat(said.append)
        notifier = RecordingNotifier(clock)
        paging_store = SqlPagingStore(engine)
        incident_store = SqlIncidentStore(engine)
        incidents = IncidentService(
            incident_store,
            chat,
            clock,
            announcement_channel=None,
            paging_gap=PagingReach(config, paging_store, {notifier.channel}).gap,
        )
        alert_store = SqlAlertStore(engine, clock)
        alert_chat = RecordingAlertChat(clock)
        timing = NoticeTiming(config.alerts.group_wait, config.alerts.update_interval)
        board = NoticeBoard(alert_store, alert_chat, ALERTS_CHANNEL, timing, clock)
        router = IncidentRouter(alert_store, incidents, clock)
        alerts = AlertService(alert_store, read_delivery, clock, board, config.routing, router)
        paging = PagingService(
            paging_store, incidents, incident_store, [notifier], config, clock, incidents.show
        )
        await paging.load_config()
        try:
            yield Core(clock, incidents, alerts, board, router, paging, notifier, alert_chat, said)
        finally:
            await alerts.close()
    finally:
        await engine.dispose()
