"""`upgrade` as deploys run it: Supabase hardening on PostgreSQL (RLS on every table, nothing
granted to the Data API roles), safe to repeat and to run twice at once; the SQLite default
gets its file and tables."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.incidents.model import Incident, Status
from bot.store.database import create_engine, driver_url
from bot.store.incident_store import SqlIncidentStore
from bot.store.migrate import current_revision, head_revision, upgrade
from bot.store.tables import metadata
from bot.vocabulary import Severity

ROOT = Path(__file__).resolve().parents[2]
# Every table the code knows, and Alembic's own.
TABLES = {*metadata.tables, "alembic_version"}
API_ROLES = ("anon", "authenticated")
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@pytest.fixture
async def pg_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty schema, not yet migrated."""
    engine = create_engine(driver_url(postgres_url))
    try:
        yield engine
    finally:
        await engine.dispose()


def _incident(number: int) -> Incident:
    at = datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
    return Incident(
        number=number,
        title="Checkout is down",
        severity=Severity.SEV2,
        status=Status.INVESTIGATING,
        opened_by="U01ALICE00",
        created_at=at,
        updated_at=at,
    )


async def _open(store: SqlIncidentStore) -> Incident:
    async with store.transaction() as tx:
        incident = _incident(await tx.next_number())
        await tx.insert(incident)
    return incident


async def _scalar(engine: AsyncEngine, sql: str, **params: object) -> object:
    async with engine.connect() as conn:
        return (await conn.execute(sa.text(sql), params)).scalar_one()


# --- Supabase hardening ------------------------------------------------------------------


async def test_every_table_in_public_has_row_level_security(pg_engine: AsyncEngine) -> None:
    await upgrade(pg_engine)

    async with pg_engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.text(
                    "SELECT c.relname, c.relrowsecurity FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
                )
            )
        ).all()

    assert {name for name, _ in rows} == TABLES
    assert [name for name, rls in rows if not rls] == []


async def test_supabase_api_roles_get_nothing_on_the_tables(pg_engine: AsyncEngine) -> None:
    """Supabase grants ALL on new `public` tables to anon/authenticated through default
    privileges; the migration has to take that back. Roles are cluster-wide: created here
    if missing and left in place (harmless, the migration only revokes from them)."""
    async with pg_engine.begin() as conn:
        await conn.execute(
            sa.text(
                """
                DO $$
                BEGIN
                    CREATE ROLE anon NOLOGIN;
                EXCEPTION WHEN duplicate_object THEN NULL;
                END $$;
                """
            )
        )
        await conn.execute(
            sa.text(
                """
                DO $$
                BEGIN
                    CREATE ROLE authenticated NOLOGIN;
                EXCEPTION WHEN duplicate_object THEN NULL;
                END $$;
                """
            )
        )
        # What Supabase's initial schema does (platform.md 1.4). Bound to this schema, so
        # it goes away with the schema the next fixture drops; revoked below as well.
        await conn.execute(
            sa.text(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                "GRANT ALL ON TABLES TO anon, authenticated"
            )
        )
    try:
        await upgrade(pg_engine)

        async with pg_engine.begin() as conn:
            # Control: a table made outside the migration is wide open to the API roles,
            # so the checks below would see a missing REVOKE.
            await conn.execute(sa.text("CREATE TABLE not_from_a_migration (id int)"))
            granted = (
                await conn.execute(
                    sa.text("SELECT has_table_privilege('anon', 'not_from_a_migration', 'SELECT')")
                )
            ).scalar_one()
            assert granted is True

            leaks = [
                (role, table, privilege)
                for role in API_ROLES
                for table in sorted(TABLES)
                for privilege in PRIVILEGES
                if (
                    await conn.execute(
                        sa.text("SELECT has_table_privilege(:role, :table, :privilege)"),
                        {"role": role, "table": f"public.{table}", "privilege": privilege},
                    )
                ).scalar_one()
            ]
            await conn.execute(sa.text("DROP TABLE not_from_a_migration"))
        assert leaks == []
        assert (
            await _scalar(pg_engine, "SELECT has_table_privilege('anon', 'incidents', 'SELECT')")
            is False
        )
    finally:
        async with pg_engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
                    "REVOKE ALL ON TABLES FROM anon, authenticated"
                )
            )


async def test_the_bot_still_reads_and_writes_with_rls_on(pg_engine: AsyncEngine) -> None:
    """RLS with no policies must keep the Data API out, not the bot (it owns the tables)."""
    await upgrade(pg_engine)
    store = SqlIncidentStore(pg_engine)

    incident = await _open(store)

    assert await store.get(incident.number) == incident


# --- running it again, and at the same time -------------------------------------------------


async def test_revision_is_none_before_and_head_after(database_url: str) -> None:
    engine = create_engine(driver_url(database_url))
    try:
        assert await current_revision(engine) is None

        assert await upgrade(engine) == head_revision()

        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()


async def test_upgrading_twice_is_harmless_and_keeps_the_data(database_url: str) -> None:
    engine = create_engine(driver_url(database_url))
    try:
        await upgrade(engine)
        store = SqlIncidentStore(engine)
        first = await _open(store)

        assert await upgrade(engine) == head_revision()

        assert await current_revision(engine) == head_revision()
        assert await store.list(include_closed=True, limit=10) == [first]
        # The counter row wasn't seeded again: numbering carries on.
        assert (await _open(store)).number == first.number + 1
    finally:
        await engine.dispose()


# One deploy: connect, say "ready", wait for the go, migrate, print the revision.
_DEPLOY = """
import asyncio, sys
from bot.store.database import create_engine, driver_url, ping
from bot.store.migrate import upgrade
from bot.store.tables import metadata

async def main():
    engine = create_engine(driver_url(sys.argv[1]))
    await ping(engine)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    print(await upgrade(engine), flush=True)
    await engine.dispose()

asyncio.run(main())
"""


async def test_two_deploys_migrating_at_once_both_succeed(postgres_url: str) -> None:
    """Render starts the new process while the old one runs; both migrate on start. Two real
    processes, released at the same moment, so their migrations overlap."""
    deploys = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _DEPLOY,
            postgres_url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        for _ in range(2)
    ]
    try:
        async with asyncio.timeout(30):
            for deploy in deploys:
                assert deploy.stdout is not None
                assert await deploy.stdout.readline() == b"ready\n"
            for deploy in deploys:
                assert deploy.stdin is not None
                deploy.stdin.write(b"go\n")
                await deploy.stdin.drain()
            outcomes = [await deploy.communicate() for deploy in deploys]
    finally:
        for deploy in deploys:
            if deploy.returncode is None:
                deploy.kill()
                await deploy.wait()

    for deploy, (out, err) in zip(deploys, outcomes, strict=True):
        assert deploy.returncode == 0, err.decode()
        assert out.decode().strip() == head_revision()
    engine = create_engine(driver_url(postgres_url))
    try:
        assert await _scalar(engine, "SELECT count(*) FROM alembic_version") == 1
        assert await _scalar(engine, "SELECT count(*) FROM incident_counter") == 1
        assert (await _open(SqlIncidentStore(engine))).number == 1
    finally:
        await engine.dispose()


async def test_a_password_with_percent_signs_does_not_break_migrations(postgres_url: str) -> None:
    """Alembic's ini-style config chokes on `%` (platform.md trap 4) if the URL ever goes
    through `set_main_option`. The local server trusts every password, so this checks the
    migration path, not authentication."""
    url = postgres_url.replace("postgres@", "postgres:p%25ss%40w%3Drd@", 1)
    assert url != postgres_url
    engine = create_engine(driver_url(url))
    try:
        assert await upgrade(engine) == head_revision()
    finally:
        await engine.dispose()


# --- the SQLite default ----------------------------------------------------------------


async def test_sqlite_upgrade_creates_the_file_and_the_tables(tmp_path: Path) -> None:
    path = tmp_path / "data" / "lucia.db"
    engine = create_engine(driver_url(f"sqlite:///{path}"))
    try:
        assert await upgrade(engine) == head_revision()

        assert path.is_file()
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
            triggers = (
                (
                    await conn.execute(
                        sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                    )
                )
                .scalars()
                .all()
            )
        assert tables == TABLES
        assert sorted(triggers) == ["timeline_events_no_delete", "timeline_events_no_update"]
        assert (await _open(SqlIncidentStore(engine))).number == 1
    finally:
        await engine.dispose()


# --- Supabase transaction pooler settings -------------------------------------------------


async def test_postgres_engine_runs_without_prepared_statements(pg_engine: AsyncEngine) -> None:
    """Smoke test only: there is no PgBouncer/Supavisor here. It checks that the engine the
    bot builds for a postgres URL keeps no named prepared statements on the server (what
    breaks behind the transaction pooler, platform.md 1.3) and copes with 50 concurrent
    parameterised queries through a 10-connection pool."""
    await upgrade(pg_engine)
    store = SqlIncidentStore(pg_engine)
    incident = await _open(store)

    results = await asyncio.gather(*(store.get(n % 3) for n in range(50)))

    assert results == [incident if n % 3 == 1 else None for n in range(50)]
    async with pg_engine.connect() as conn:
        for number in range(5):
            await conn.execute(
                sa.text("SELECT title FROM incidents WHERE number = :n"), {"n": number}
            )
        kept = (await conn.execute(sa.text("SELECT name FROM pg_prepared_statements"))).all()
    assert kept == []
