"""Turning `DATABASE_URL` into an async engine that fits where it points."""

from __future__ import annotations

__all__ = ["create_engine", "driver_url", "is_sqlite", "ping"]

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.errors import StoreUnavailable


def driver_url(database_url: str) -> URL:
    """`postgresql://…` or `postgres://…` → asyncpg; `sqlite:///path` → aiosqlite.

    libpq's `sslmode=` becomes asyncpg's `ssl=`, since asyncpg rejects `sslmode`.
    """
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        query = dict(url.query)
        if "sslmode" in query:
            query["ssl"] = query.pop("sslmode")
        return url.set(drivername="postgresql+asyncpg", query=query)
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"DATABASE_URL must be postgresql://… or sqlite:///…, not {backend}://")


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def create_engine(url: URL) -> AsyncEngine:
    if is_sqlite(url):
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        # SQLite is single-writer and the bot runs one process on it: one connection,
        # shared in turn by every unit of work, never a "database is locked".
        engine = create_async_engine(
            url, pool_size=1, max_overflow=0, pool_timeout=30, hide_parameters=True
        )
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Statement caches off: Supabase's transaction pooler (6543) can't keep prepared
    # statements, and the session pooler works the same without them.
    return create_async_engine(
        url,
        hide_parameters=True,  # errors would otherwise carry titles and notes into logs
        pool_size=5,
        max_overflow=5,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"statement_cache_size": 0, "prepared_statement_cache_size": 0, "timeout": 10},
    )


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


async def ping(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(f"database unreachable: {type(exc).__name__}") from exc
