"""Turning `DATABASE_URL` into an async engine that fits where it points."""

from __future__ import annotations

__all__ = [
    "connect",
    "create_engine",
    "driver_url",
    "from_utc",
    "insert_once",
    "is_sqlite",
    "ping",
    "to_utc",
]

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

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


def create_engine(url: URL, *, max_connections: int = 10) -> AsyncEngine:
    """`max_connections`: the most this process opens (DATABASE_POOL_SIZE), half kept open."""
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
    connect_args: dict[str, Any] = {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "timeout": 10,
    }
    url, verified = _verified_tls(url)
    if verified is not None:
        connect_args["ssl"] = verified
    kept = max(1, max_connections // 2)
    return create_async_engine(
        url,
        hide_parameters=True,  # errors would otherwise carry titles and notes into logs
        pool_size=kept,
        max_overflow=max_connections - kept,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )


def _verified_tls(url: URL) -> tuple[URL, ssl.SSLContext | None]:
    """libpq's `sslrootcert=<file>` (with `sslmode=verify-full`, or `verify-ca`) as an SSL
    context that checks the server's certificate against that CA: Supabase's certificate
    chains to its own root, which no public bundle holds, and asyncpg takes no file name."""
    query = dict(url.query)
    root = query.pop("sslrootcert", None)
    if root is None:
        return url, None
    mode = query.pop("ssl", "verify-full")
    context = ssl.create_default_context(cafile=str(root))
    context.check_hostname = mode != "verify-ca"
    return url.set(query=query), context


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


@asynccontextmanager
async def connect(engine: AsyncEngine, *, begin: bool = False) -> AsyncIterator[AsyncConnection]:
    """One connection for one unit of work (in a transaction with `begin`).

    A database that can't be reached, or a connection lost midway (its transaction is then
    rolled back), is `StoreUnavailable`. Anything else, a constraint violation say, is a
    bug and stays what it is.
    """
    try:
        conn = await engine.connect()
    except (OSError, sa.exc.DBAPIError, sa.exc.TimeoutError) as exc:
        raise StoreUnavailable(f"database unreachable: {type(exc).__name__}") from exc
    try:
        if begin:
            async with conn.begin():
                yield conn
        else:
            yield conn
    except sa.exc.DBAPIError as exc:
        if exc.connection_invalidated or isinstance(
            exc, sa.exc.OperationalError | sa.exc.InterfaceError
        ):
            raise StoreUnavailable(f"database connection lost: {type(exc).__name__}") from exc
        raise
    finally:
        await conn.close()


def to_utc(value: datetime | None) -> datetime | None:
    """SQLite keeps the wall-clock digits and drops the offset: store UTC digits."""
    return value.astimezone(UTC) if value is not None else None


def from_utc(value: datetime | None) -> Any:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def insert_once(conn: AsyncConnection, table: sa.Table) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, on Postgres and SQLite: two processes racing to
    write the same row (deploy overlap) both succeed, and one row is written."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()
