"""How the bot connects to Supabase: with `sslrootcert=` in DATABASE_URL it checks the server
against that CA (Supabase's certificate chains to its own) and refuses one it doesn't vouch
for, and it never opens more connections than its pool size."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.store.database import create_engine, driver_url
from bot.store.reach import connection_problem
from tests.drivers.services import POSTGRES_URL, empty_postgres
from tests.fakes.certificates import make_ca_and_server_cert
from tests.fakes.tls_postgres import TlsPostgres


@pytest.fixture
async def tls_postgres(tmp_path: Path) -> AsyncIterator[tuple[TlsPostgres, Path]]:
    await empty_postgres()
    ca, cert, key = make_ca_and_server_cert(tmp_path)
    upstream = make_url(POSTGRES_URL)
    async with TlsPostgres((upstream.host or "127.0.0.1", upstream.port or 5432), cert, key) as pg:
        yield pg, ca


def _url(port: int, query: str) -> str:
    upstream = make_url(POSTGRES_URL)
    return f"postgresql://{upstream.username}@127.0.0.1:{port}/{upstream.database}?{query}"


async def _select_one(database_url: str) -> int:
    engine = create_engine(driver_url(database_url), max_connections=1)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(sa.text("SELECT 1"))).scalar_one())
    finally:
        await engine.dispose()


@pytest.mark.parametrize("mode", ["verify-full", "verify-ca"])
async def test_a_server_signed_by_the_given_ca_is_trusted(
    tls_postgres: tuple[TlsPostgres, Path], mode: str
) -> None:
    pg, ca = tls_postgres
    assert await _select_one(_url(pg.port, f"sslmode={mode}&sslrootcert={ca}")) == 1


async def test_a_server_the_given_ca_did_not_sign_is_refused(
    tls_postgres: tuple[TlsPostgres, Path], tmp_path: Path
) -> None:
    pg, _ = tls_postgres
    (tmp_path / "other").mkdir()
    other_ca, _, _ = make_ca_and_server_cert(tmp_path / "other")
    url = _url(pg.port, f"sslmode=verify-full&sslrootcert={other_ca}")
    with pytest.raises(ssl.SSLCertVerificationError) as refused:
        await _select_one(url)
    problem = connection_problem(driver_url(url), refused.value)
    assert problem.startswith(f"can't use the database at 127.0.0.1:{pg.port}, database ")
    assert "the server's certificate was refused (unable to get local issuer certificate)" in (
        problem
    )


async def test_a_ca_file_that_isnt_there_yet_is_named_in_the_problem(tmp_path: Path) -> None:
    """Render's Secret File is added after the first deploy: say so, not "network failed"."""
    missing = tmp_path / "supabase-ca.crt"
    url = _url(5432, f"sslmode=verify-full&sslrootcert={missing}")
    with pytest.raises(FileNotFoundError) as absent:
        await _select_one(url)
    problem = connection_problem(driver_url(url), absent.value)
    assert f"the CA file that sslrootcert= names ({missing}) doesn't exist" in problem
    assert "?sslmode=require" in problem


async def test_verify_full_checks_the_host_name_too(tmp_path: Path) -> None:
    await empty_postgres()
    ca, cert, key = make_ca_and_server_cert(tmp_path, host="10.9.9.9")  # not where we connect
    upstream = make_url(POSTGRES_URL)
    async with TlsPostgres((upstream.host or "127.0.0.1", upstream.port or 5432), cert, key) as pg:
        with pytest.raises(ssl.SSLCertVerificationError, match=r"IP address mismatch"):
            await _select_one(_url(pg.port, f"sslmode=verify-full&sslrootcert={ca}"))
        assert await _select_one(_url(pg.port, f"sslmode=verify-ca&sslrootcert={ca}")) == 1


async def test_an_instance_never_opens_more_than_its_pool_size() -> None:
    """Supabase's pooler counts clients: DATABASE_POOL_SIZE is the most one instance opens,
    however many units of work want one at once."""
    url = await empty_postgres()
    engine = create_engine(driver_url(url), max_connections=3)
    seen: list[int] = []

    async def busy() -> None:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT pg_sleep(0.2)"))
            count = await conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND application_name = '' AND backend_type = 'client backend'"
                )
            )
            seen.append(int(count.scalar_one()) + 1)

    try:
        await asyncio.gather(*(busy() for _ in range(12)))
    finally:
        await engine.dispose()
    assert len(seen) == 12
    assert max(seen) <= 3
