"""`HopReader` on SQLAlchemy: what the inbox, the alert groups and their notices show of
one synthetic trace (`bot/gate/trace.py`), in one connection per look.

The inbox row is found by its id (the webhook's answer names it; the inbox has no other
index to search by) and counts only if its body carries the trace id; the group by the
trace's key; the posted message by the group's notice.
"""

from __future__ import annotations

__all__ = ["SqlTraceHops"]

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.alerts.model import trace_key
from bot.gate.trace_ports import HopsSeen
from bot.store.database import connect, from_utc
from bot.store.tables import alert_deliveries, alert_groups, alert_notices


class SqlTraceHops:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def hops(self, trace_id: str, delivery_id: int | None) -> HopsSeen:
        async with connect(self._engine) as conn:
            group_query = (
                sa.select(
                    alert_groups.c.id,
                    alert_notices.c.channel_id,
                    alert_notices.c.message_ts,
                    alert_notices.c.sent_at,
                )
                .select_from(alert_groups.outerjoin(alert_notices))
                .where(alert_groups.c.key == trace_key(trace_id))
                .order_by(alert_groups.c.id)
                .limit(1)
            )
            group = (await conn.execute(group_query)).mappings().first()
            # After the group: a group seen means its delivery's read is committed too.
            delivery = None
            if delivery_id is not None:
                query = sa.select(alert_deliveries).where(alert_deliveries.c.id == delivery_id)
                delivery = (await conn.execute(query)).mappings().first()
        # Another deployment's row with the same id (a public URL that reaches another
        # bot's database) is not this trace's delivery.
        if delivery is not None and trace_id.encode() not in bytes(delivery["body"]):
            delivery = None
        seen = HopsSeen()
        if delivery is not None:
            seen = HopsSeen(stored_at=from_utc(delivery["received_at"]), read_as=_read_as(delivery))
        if group is None:
            return seen
        posted = group["message_ts"] is not None and group["sent_at"] is not None
        return HopsSeen(
            stored_at=seen.stored_at,
            read_as=seen.read_as,
            grouped_at=from_utc(delivery["processed_at"]) if delivery is not None else None,
            group_id=int(group["id"]),
            posted_at=from_utc(group["sent_at"]) if posted else None,
            channel_id=group["channel_id"] if posted else None,
            message_ts=group["message_ts"] if posted else None,
        )


def _read_as(delivery: sa.RowMapping) -> str | None:
    if delivery["processed_at"] is None:
        return None
    outcome = str(delivery["outcome"])
    return f"{outcome}: {delivery['error']}" if delivery["error"] else outcome
