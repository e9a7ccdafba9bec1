"""Which deployment a database belongs to: the namespace of its bot's Redis keys."""

from __future__ import annotations

__all__ = ["deployment_namespace"]

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.database import connect
from bot.store.tables import deployment


async def deployment_namespace(engine: AsyncEngine) -> str:
    """The random id migration 0010 wrote into this database (after `upgrade`)."""
    async with connect(engine) as conn:
        return str(
            (
                await conn.execute(sa.select(deployment.c.namespace).where(deployment.c.id == 1))
            ).scalar_one()
        )
