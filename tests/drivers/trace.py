"""The launch gate's alert pipeline trace, wired to a running bot as its runtime would
wire it: the synthetic webhook sent to a public URL, hops read from the bot's database,
the bot's alerts service resolving it, the bot's wake-ups told afterwards."""

from __future__ import annotations

__all__ = ["alert_trace"]

import aiohttp

from bot.app import utc_now
from bot.gate.trace import AlertTrace
from bot.sentry.synthetic import SyntheticSender
from bot.store.trace_hops import SqlTraceHops
from tests.drivers.bot import Bot


def alert_trace(
    bot: Bot, session: aiohttp.ClientSession, *, public_url: str | None = None, secret: str
) -> AlertTrace:
    """`public_url` defaults to the running bot's own address on 127.0.0.1."""
    url = public_url if public_url is not None else str(bot.client.make_url(""))
    runtime = bot.runtime
    return AlertTrace(
        SyntheticSender(url, secret, session, timeout=2.0),
        SqlTraceHops(runtime.engine),
        runtime.alerts,
        utc_now,
        changed=runtime.wakeups.changed,
    )
