"""The composition root: builds the parts one bot process runs on from `Settings` and
`lucia.yaml`, and wires them (`bot.server` puts them behind HTTP). Nothing else in the
bot connects, reads the environment or configures logging."""

from __future__ import annotations

__all__ = ["Reads", "Runtime", "build_runtime", "utc_now"]

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import outbound
from bot.alerts.model import NoticeTiming
from bot.alerts.notices import NoticeBoard
from bot.alerts.pipeline import FOLD_DELAY, AlertPipeline
from bot.alerts.ports import AlertChat, AlertStore, RepeatCounter
from bot.alerts.routing import LEASE as ROUTE_LEASE
from bot.alerts.routing import IncidentRouter
from bot.alerts.service import AlertService
from bot.background import BackgroundTasks, SingleFlight, Soon
from bot.config import AdminViewConfig, LuciaConfig
from bot.dedupe.memory import MemoryDedupe
from bot.dedupe.redis_counter import RedisRepeatCounter
from bot.dedupe.redis_dedupe import RedisDedupe, connect_redis
from bot.desk import Desk
from bot.gate.evidence import Checks
from bot.gate.ports import GateChat, GateStore
from bot.gate.replies import GateReport
from bot.gate.service import Announce, GateService
from bot.gate.trace import AlertTrace
from bot.incidents.ports import IncidentChat, IncidentStore
from bot.incidents.service import IncidentService
from bot.paging.ports import Notifier, PagingStore, ProfileNames
from bot.paging.reach import PagingReach
from bot.paging.service import PagingService
from bot.playbooks.model import load_playbooks
from bot.playbooks.service import PlaybookService
from bot.postmortem.links import link_query
from bot.postmortem.service import LINK_LIFETIME, PostmortemService
from bot.probe.url import HttpUrlProbe
from bot.render.health import HttpHealthProbe
from bot.sentry.payloads import read_delivery
from bot.sentry.synthetic import SyntheticSender
from bot.settings import Settings
from bot.slack.chat import SlackChat
from bot.slack.ports import Dedupe
from bot.slack.run_channel import SlackRunChannel
from bot.status.service import StatusService
from bot.store.alert_store import SqlAlertStore
from bot.store.database import create_engine, driver_url
from bot.store.deployment import deployment_namespace
from bot.store.due import next_due
from bot.store.gate_store import SqlGateStore
from bot.store.incident_store import SqlIncidentStore
from bot.store.migrate import upgrade
from bot.store.paging_store import SqlPagingStore
from bot.store.playbook_store import SqlPlaybookStore
from bot.store.postmortem_store import SqlPostmortemStore
from bot.store.status_store import SqlStatusStore
from bot.store.trace_hops import SqlTraceHops
from bot.types import Clock
from bot.wakeups import Wakeups

log = logging.getLogger(__name__)

FOLD_LEFTOVERS = timedelta(minutes=10)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Reads:
    """What the admin view reads, through the core's ports: never a check or a write."""

    incidents: IncidentStore
    alerts: AlertStore
    paging: PagingStore
    gate: GateStore
    gate_phases: tuple[str, ...]
    status: StatusService
    channels: frozenset[str]  # how this deployment pages: for the owners' gaps
    admitted: AdminViewConfig  # who may enter


@dataclass(kw_only=True)
class Runtime:
    """The parts one bot process runs on, built once and closed once."""

    settings: Settings
    engine: AsyncEngine
    dedupe: Dedupe
    background: BackgroundTasks
    incidents: IncidentService
    alerts: AlertService
    postmortems: PostmortemService
    alert_reader: SingleFlight  # reads kept deliveries into alert groups
    repeat_folder: SingleFlight  # moves repeats counted in Redis onto their groups
    fold_soon: Soon  # a second after a repeat is counted: the folder runs
    desk: Desk  # answers /lucia commands
    reads: Reads  # the admin view's
    wakeups: Wakeups  # runs the workers when their rows say something is due
    ticker: AsyncIOScheduler  # one-shot timers, and the fold of counts a dead process left
    exits: AsyncExitStack  # closes what was opened, last first
    _waking: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> None:
        """In the running loop: wake the workers when something is due (at once, for what
        a stopped process left behind), and fold what Redis counted."""

        async def fold() -> None:  # a coroutine, so APScheduler runs it on this loop
            self.repeat_folder.kick()

        # Counts a process counted and then didn't fold (it was killed) are folded by
        # whoever looks next: rarely, since Upstash bills every command.
        self.ticker.add_job(fold, "interval", seconds=FOLD_LEFTOVERS.total_seconds(), id="fold")
        self.ticker.start()
        self.repeat_folder.kick()
        self._waking = asyncio.create_task(self.wakeups.run(), name="wakeups")

    async def close(self) -> None:
        if self.ticker.running:
            self.ticker.shutdown(wait=False)
        self.fold_soon.cancel()
        if self._waking is not None:
            self._waking.cancel()
            await asyncio.gather(self._waking, return_exceptions=True)
        await self.background.drain()
        await self.exits.aclose()


async def build_runtime(
    settings: Settings,
    config: LuciaConfig,
    chat: IncidentChat,
    clock: Clock = utc_now,
    alert_chat: AlertChat | None = None,
    slack: SlackChat | None = None,
    profiles: ProfileNames | None = None,
    choose_notifiers: Callable[[Sequence[Notifier]], Sequence[Notifier]] | None = None,
    gate_chat: GateChat | None = None,
) -> Runtime:
    """`choose_notifiers` gets the notifiers built from the settings and returns those
    pages go through: the shell's show each page in its terminal instead of sending it."""
    async with AsyncExitStack() as exits:
        engine = create_engine(
            driver_url(settings.database_url), max_connections=settings.database_pool_size
        )
        exits.push_async_callback(engine.dispose)
        await upgrade(engine)
        dedupe: Dedupe = MemoryDedupe()
        counter: RepeatCounter | None = None  # without Redis every delivery uses the inbox
        if settings.redis_url:
            namespace = settings.lucia_redis_namespace or await deployment_namespace(engine)
            # Staging and production often share one Upstash database: neither may read or
            # fold the other's keys.
            prefix = f"lucia:{namespace}:"
            redis = connect_redis(settings.redis_url)
            dedupe, counter = RedisDedupe(redis, prefix=prefix), RedisRepeatCounter(redis, prefix)
        exits.push_async_callback(dedupe.close)
        http = aiohttp.ClientSession()
        exits.push_async_callback(http.close)
        # The gate looks at references as anyone would: no cookies kept between looks.
        anonymous = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        exits.push_async_callback(anonymous.close)
        background = BackgroundTasks()
        # The workers whose timers are rows: each run may move the next due time.
        wakeups = Wakeups(lambda: next_due(engine, route_lease=ROUTE_LEASE), lambda: wake(), clock)
        due_flight = partial(SingleFlight, background=background, finished=wakeups.changed)

        notifiers = outbound.notifiers(settings, slack, http)
        if choose_notifiers is not None:
            notifiers = list(choose_notifiers(notifiers))
        paging_store = SqlPagingStore(engine)
        incident_store = SqlIncidentStore(engine)
        incidents = IncidentService(
            incident_store,
            chat,
            clock,
            announcement_channel=settings.lucia_incidents_channel,
            paging_gap=PagingReach(config, paging_store, {n.channel for n in notifiers}).gap,
            opened=lambda: pager.kick(),  # the first page goes out now, not on the next look
        )

        alert_store = SqlAlertStore(engine, clock)
        board = None
        if alert_chat is not None and settings.lucia_alerts_channel:
            timing = NoticeTiming(config.alerts.group_wait, config.alerts.update_interval)
            board = NoticeBoard(
                alert_store, alert_chat, settings.lucia_alerts_channel, timing, clock
            )
        router = IncidentRouter(alert_store, incidents, clock)
        alerts = AlertService(
            alert_store, read_delivery, clock, board, config.routing, router, counter
        )
        exits.push_async_callback(alerts.close)  # its commits under way, before the engine
        sender = due_flight(board.send_due if board else _nothing, name="notice-sender")
        opener = due_flight(router.open_pending, name="alert-router")
        pipeline = AlertPipeline(
            alerts,
            router,
            route=opener.kick,
            show=sender.kick,
            fold_again=lambda seconds: fold_soon.poke(seconds),
        )
        folder = due_flight(pipeline.fold, name="repeat-folder")
        fold_soon = Soon(folder, FOLD_DELAY)
        reader = due_flight(pipeline.read, name="alert-reader")

        paging = PagingService(
            paging_store,
            incidents,
            incident_store,
            notifiers,
            config,
            clock,
            incidents.show,
            profiles=profiles,
            wake=lambda: page_sender.kick(),
        )
        pager = due_flight(paging.escalate, name="pager")
        page_sender = due_flight(paging.send_pages, name="page-sender")

        def wake() -> None:
            for flight in (reader, sender, opener, pager, page_sender):
                flight.kick()

        ticker = AsyncIOScheduler(timezone="UTC")

        def sweep_runs_at(due: datetime) -> None:
            """A one-shot timer for the next lease sweep (the only playbook timer)."""

            async def kick() -> None:  # a coroutine, so APScheduler runs it on this loop
                run_sweeper.kick()

            ticker.add_job(
                kick,
                "date",
                run_date=due,
                id="playbook-leases",
                replace_existing=True,
                misfire_grace_time=None,
            )

        playbooks = PlaybookService(
            load_playbooks(settings.lucia_playbooks),
            config,
            SqlPlaybookStore(engine),
            outbound.render_client(settings, http),
            HttpHealthProbe(http),
            incident_store,
            paging,
            SlackRunChannel(slack),
            incidents,
            background,
            clock,
            own_service_id=settings.render_service_id,
            wake_at=sweep_runs_at,
        )
        run_sweeper = SingleFlight(playbooks.sweep, background, name="playbook-leases")
        sweep_runs_at(clock())  # at start: runs a stopped bot left behind
        postmortems = PostmortemService(
            SqlPostmortemStore(engine),
            incident_store,
            slack,
            _link_maker(settings, clock),
            incidents.show,
            paging.responders,
            clock,
        )
        gate_store = SqlGateStore(engine)
        gate = GateService(
            config,
            gate_store,
            paging_store,
            Checks(
                probe=HttpUrlProbe(anonymous),
                render=outbound.render_client(settings, http),
                backups=outbound.backups_api(settings, http),
                trace=_alert_trace(settings, http, engine, alerts, clock, wakeups.changed),
                test_pages=paging.test_pages,
                channels={n.channel for n in notifiers},
            ),
            clock,
            _gate_announcer(gate_chat, settings.lucia_incidents_channel),
        )
        if config.gate.phases:
            ticker.add_job(
                gate.recheck,
                "interval",
                seconds=config.gate.recheck.total_seconds(),
                id="gate-recheck",
                max_instances=1,
                coalesce=True,
            )
        status = StatusService(
            config.status_page,
            SqlStatusStore(engine),
            incident_store,
            outbound.cache_purge(settings, http),
            settings.public_url,
            paging.responders,
            clock,
            incidents.show,
        )
        await status.start()
        await paging.load_config()
        desk = Desk(incidents, alerts, paging, playbooks, postmortems, gate, status, ran=wake)
        return Runtime(
            settings=settings,
            engine=engine,
            dedupe=dedupe,
            background=background,
            incidents=incidents,
            alerts=alerts,
            postmortems=postmortems,
            alert_reader=reader,
            repeat_folder=folder,
            fold_soon=fold_soon,
            desk=desk,
            reads=Reads(
                incidents=incident_store,
                alerts=alert_store,
                paging=paging_store,
                gate=gate_store,
                gate_phases=tuple(config.gate.phases),
                status=status,
                channels=frozenset(n.channel for n in notifiers),
                admitted=config.admin_view,
            ),
            wakeups=wakeups,
            ticker=ticker,
            exits=exits.pop_all(),
        )
    raise AssertionError("unreachable")  # mypy: `async with` may swallow exceptions


async def _nothing() -> None:
    return None


def _alert_trace(
    settings: Settings,
    session: aiohttp.ClientSession,
    engine: AsyncEngine,
    alerts: AlertService,
    clock: Clock,
    changed: Callable[[], None],
) -> AlertTrace | None:
    """`/lucia gate trace` needs the public URL to send to and the secret to sign with."""
    secret = settings.sentry_client_secret
    if settings.public_url is None or secret is None:
        return None
    sender = SyntheticSender(settings.public_url, secret.get_secret_value(), session)
    return AlertTrace(sender, SqlTraceHops(engine), alerts, clock, changed=changed)


def _gate_announcer(chat: GateChat | None, channel: str | None) -> Announce:
    """A changed verdict goes to the incidents channel; without one it is only logged."""

    async def announce(report: GateReport) -> None:
        if chat is not None and channel:
            await chat.post_gate(channel, report)

    return announce


def _link_maker(settings: Settings, clock: Clock) -> Callable[[int], str | None]:
    """Signed, expiring links to postmortems, when the bot knows its URL and a key."""
    secret, base = settings.link_secret, settings.public_url
    if secret is None or base is None:
        return lambda _number: None

    def link(number: int) -> str:
        expires = int((clock() + LINK_LIFETIME).timestamp())
        return f"{base}/incidents/{number}/postmortem.md?{link_query(number, expires, secret)}"

    return link
