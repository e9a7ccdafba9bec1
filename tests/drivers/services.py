"""The real PostgreSQL and Redis the tests run against: one database and one Redis db per
xdist worker, emptied on demand; they fail loudly, never skip, when a service is down."""

from __future__ import annotations

__all__ = ["POSTGRES_URL", "REDIS_URL", "empty_postgres", "proxy_url"]

import os

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.fakes.tcp_proxy import TcpProxy

_BASE_POSTGRES_URL = make_url(
    os.environ.get("LUCIA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/lucia_test")
)
_BASE_REDIS_URL = make_url(os.environ.get("LUCIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
# Under `pytest -n N` each worker (gw0, gw1, …) gets a database and a Redis db of its own.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
POSTGRES_URL = (
    _BASE_POSTGRES_URL.set(database=f"{_BASE_POSTGRES_URL.database}_gw{_WORKER}")
    if "PYTEST_XDIST_WORKER" in os.environ
    else _BASE_POSTGRES_URL
).render_as_string(hide_password=False)
REDIS_URL = _BASE_REDIS_URL.set(
    database=str(int(_BASE_REDIS_URL.database or "15") - _WORKER)
).render_as_string(hide_password=False)


async def empty_postgres() -> str:
    """An empty `public` schema in the test database; fails loudly if Postgres is down."""
    try:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except asyncpg.InvalidCatalogNameError:
        await _create_worker_database()
        conn = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required for this test: {exc!r}")
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    return POSTGRES_URL


async def _create_worker_database() -> None:
    """A worker's own database, made beside the test database on first use."""
    admin = await asyncpg.connect(_BASE_POSTGRES_URL.render_as_string(hide_password=False))
    try:
        await admin.execute(f'CREATE DATABASE "{make_url(POSTGRES_URL).database}"')
    except asyncpg.DuplicateDatabaseError:
        pass  # made meanwhile by a test of the same worker that got there first
    finally:
        await admin.close()


def proxy_url(proxy: TcpProxy) -> str:
    """The test database, reached through `proxy` (a cuttable TCP path)."""
    return make_url(POSTGRES_URL).set(port=proxy.port).render_as_string(hide_password=False)
