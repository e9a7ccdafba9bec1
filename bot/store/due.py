"""When the bot next has work, read from the rows that are its timers, in one statement.

An idle bot asks this once in a while instead of running every worker every second:
Supabase's pooler counts the transactions, and an idle bot should make next to none.
"""

from __future__ import annotations

__all__ = ["next_due"]

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.database import connect, from_utc
from bot.store.tables import alert_deliveries, alert_groups, alert_notices, escalations, pages


async def next_due(engine: AsyncEngine, *, route_lease: timedelta) -> datetime | None:
    """The earliest time anything stored is due, or None when nothing is waiting.

    A time in the past means "now": an unread delivery, a route to open, or a timer a
    stopped process left behind."""
    soonest = [
        sa.select(sa.func.min(alert_deliveries.c.received_at))
        .where(alert_deliveries.c.processed_at.is_(None))
        .scalar_subquery(),
        sa.select(sa.func.min(alert_notices.c.due_at)).scalar_subquery(),
        sa.select(sa.func.min(escalations.c.due_at))
        .where(escalations.c.status == "active")
        .scalar_subquery(),
        sa.select(sa.func.min(pages.c.due_at))
        .where(pages.c.status.in_(["pending", "sending"]))
        .scalar_subquery(),
        sa.select(sa.func.min(alert_groups.c.first_seen))
        .where(alert_groups.c.route_state == "pending")
        .scalar_subquery(),
        sa.select(sa.func.min(alert_groups.c.noted_at))
        .where(alert_groups.c.route_state == "opening")
        .scalar_subquery(),
    ]
    async with connect(engine) as conn:
        row = (await conn.execute(sa.select(*soonest))).one()
    *now_or_timers, opening_since = (from_utc(value) for value in row)
    times = [t for t in now_or_timers if t is not None]
    if opening_since is not None:  # an opener's lease: retried when it runs out
        times.append(opening_since + route_lease)
    return min(times, default=None)
