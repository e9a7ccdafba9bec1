"""What `lucia-bot serve` runs: the runtime behind the routes of `bot.web`, on one aiohttp
application that starts and closes it, with Slack by HTTP or Socket Mode."""

from __future__ import annotations

__all__ = ["MAX_BODY", "RUNTIME", "build_server_app", "build_web_app", "serve"]

import gc
import logging
from collections.abc import AsyncIterator
from functools import partial

import uvloop
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot import log_messages as msg
from bot import outbound
from bot.app import Runtime, build_runtime, utc_now
from bot.config import LuciaConfig
from bot.console.chat import ConsoleChat
from bot.settings import Settings, SlackMode
from bot.slack.app import build_bolt_app, build_web_client
from bot.slack.chat import SlackChat
from bot.slack.dispatch import SlackDeps
from bot.slack.identity import SlackIdentity
from bot.slack.paging import SlackProfiles
from bot.store.database import driver_url, ping
from bot.web.admin import AdminView, ClerkFront
from bot.web.admin_api import AdminSources
from bot.web.health import Health
from bot.web.postmortem_link import PostmortemLink
from bot.web.sentry_webhook import SentryWebhook
from bot.web.slack_events import SlackEvents
from bot.web.status_page import StatusPage

log = logging.getLogger(__name__)

# Slack's payloads are a few kB, Sentry's up to a few hundred; far bigger is refused (413).
MAX_BODY = 1024 * 1024

RUNTIME = web.AppKey("runtime", Runtime)


def build_web_app(
    runtime: Runtime, bolt: AsyncApp | None, slack: SlackIdentity | None = None
) -> web.Application:
    """The routes of `bot.web` on one application, which starts and closes the runtime."""
    settings = runtime.settings
    app = web.Application(client_max_size=MAX_BODY)
    app[RUNTIME] = runtime
    redis = runtime.dedupe.ping if settings.redis_url else None
    app.add_routes(Health(partial(ping, runtime.engine), redis, slack).routes())
    app.add_routes(SlackEvents(bolt, settings.slack_mode).routes())
    sentry = SentryWebhook(
        runtime.alerts,
        runtime.alert_reader,
        runtime.fold_soon,
        client_secret=settings.sentry_client_secret,
        legacy_token=settings.sentry_webhook_token,
        max_body=MAX_BODY,
    )
    app.add_routes(sentry.routes())
    app.add_routes(PostmortemLink(runtime.postmortems, settings.link_secret, utc_now).routes())
    app.add_routes(StatusPage(runtime.desk.status, settings.public_url).routes())
    app.add_routes(_admin_view(runtime).routes())

    async def lifespan(_app: web.Application) -> AsyncIterator[None]:
        runtime.start()
        yield
        await runtime.close()

    app.cleanup_ctx.append(lifespan)
    return app


async def build_server_app(settings: Settings, config: LuciaConfig) -> web.Application:
    """Everything `lucia-bot serve` runs, as an aiohttp application."""
    bolt: AsyncApp | None = None
    if settings.slack_mode is SlackMode.OFF:
        log.warning(msg.SLACK_NOT_CONFIGURED, extra={"hint": "use `lucia-bot shell` to chat"})
        console = ConsoleChat(log.info)
        runtime = await build_runtime(settings, config, console, gate_chat=console)
        _log_serving(settings)
        return build_web_app(runtime, None)
    client = build_web_client(settings)
    identity = SlackIdentity(client)
    await identity.check_at_start()
    chat = SlackChat(client)
    runtime = await build_runtime(
        settings,
        config,
        chat,
        alert_chat=chat,
        slack=chat,
        profiles=SlackProfiles(client),
        gate_chat=chat,
    )
    deps = SlackDeps(runtime.desk, runtime.incidents, runtime.background, runtime.dedupe)
    bolt = build_bolt_app(settings, deps, identity)
    app = build_web_app(runtime, bolt, identity)
    if settings.slack_mode is SlackMode.SOCKET:
        assert settings.slack_app_token is not None
        handler = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())

        async def connect(_app: web.Application) -> None:
            await handler.connect_async()  # type: ignore[no-untyped-call]

        async def disconnect(_app: web.Application) -> None:
            await handler.close_async()  # type: ignore[no-untyped-call]

        app.on_startup.append(connect)
        app.on_shutdown.append(disconnect)
    _log_serving(settings)
    return app


def _admin_view(runtime: Runtime) -> AdminView:
    """`/admin` and `/admin/api/*`: off (saying how to turn it on) without Clerk."""
    settings, reads = runtime.settings, runtime.reads
    check = outbound.admission_check(settings, reads.admitted)
    host = settings.clerk_frontend_api
    if check is None or settings.clerk_publishable_key is None or host is None:
        log.info(msg.ADMIN_VIEW_OFF)
        return AdminView(None, None, None)
    front = ClerkFront(settings.clerk_publishable_key, host, settings.clerk_js_url)
    sources = AdminSources(
        incidents=reads.incidents,
        alerts=reads.alerts,
        paging=reads.paging,
        gate=reads.gate,
        gate_phases=reads.gate_phases,
        status=reads.status,
        postmortems=runtime.postmortems,
        channels=reads.channels,
    )
    return AdminView(front, check, sources)


def _log_serving(settings: Settings) -> None:
    url = driver_url(settings.database_url)
    log.info(
        msg.SERVING,
        extra={
            "port": settings.port,
            "slack": settings.slack_mode.value,
            "database": url.get_backend_name(),
            "database_host": url.host or url.database,
            "redis": bool(settings.redis_url),
            "sentry_webhooks": settings.sentry_client_secret is not None,
        },
    )


async def _freeze_startup_objects(_app: web.Application) -> None:
    # What was built at start lives as long as the process. Left to the collector, its
    # full scans took a tenth of the CPU in a webhook flood and set the p99 at ~90 ms.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 10)


def serve(settings: Settings, config: LuciaConfig) -> None:
    """Run until SIGTERM/SIGINT; in-flight requests and background work finish first."""

    async def server_app() -> web.Application:
        app = await build_server_app(settings, config)
        app.on_startup.append(_freeze_startup_objects)
        return app

    web.run_app(
        server_app(),
        host="0.0.0.0",  # noqa: S104 - Render routes to the container's interface
        port=settings.port,
        shutdown_timeout=10,
        access_log=None,
        print=lambda _msg: None,
        loop=uvloop.new_event_loop(),  # a quarter more webhooks a second in a flood
    )
