"""`DATABASE_URL` as operators write it (libpq / Supabase dashboard style) becomes an engine
that connects: asyncpg for PostgreSQL, aiosqlite for the SQLite default."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.errors import StoreUnavailable
from bot.store.database import create_engine, driver_url, ping

SUPABASE = (
    "postgres.abcdefghijklmnop:{password}@aws-0-eu-central-1.pooler.supabase.com:5432/postgres"
)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_postgres_urls_use_asyncpg_and_keep_everything_else(scheme: str) -> None:
    url = driver_url(
        f"{scheme}://lucia:secret@db.example.com:6543/incidents?application_name=lucia"
    )

    assert url.drivername == "postgresql+asyncpg"
    assert (url.username, url.password, url.host, url.port, url.database) == (
        "lucia",
        "secret",
        "db.example.com",
        6543,
        "incidents",
    )
    assert dict(url.query) == {"application_name": "lucia"}


@pytest.mark.parametrize("mode", ["require", "verify-full", "disable"])
def test_libpq_sslmode_becomes_asyncpg_ssl(mode: str) -> None:
    url = driver_url(f"postgresql://u:p@h/db?sslmode={mode}&application_name=lucia")

    assert dict(url.query) == {"ssl": mode, "application_name": "lucia"}


def test_a_percent_encoded_password_survives() -> None:
    raw = SUPABASE.format(password="p%40ss%3Dw%25rd%2F1")

    url = driver_url(f"postgresql://{raw}?sslmode=require")

    assert url.password == "p@ss=w%rd/1"
    assert url.username == "postgres.abcdefghijklmnop"
    # Rendered and parsed again (what a pool does on reconnect) it is still the same.
    again = make_url(url.render_as_string(hide_password=False))
    assert again.password == "p@ss=w%rd/1"
    assert again.drivername == "postgresql+asyncpg"


@pytest.mark.parametrize(
    ("given", "database"),
    [
        ("sqlite:///x.db", "x.db"),
        ("sqlite:///data/lucia.db", "data/lucia.db"),
        ("sqlite:////var/lib/lucia/lucia.db", "/var/lib/lucia/lucia.db"),
    ],
)
def test_sqlite_urls_use_aiosqlite(given: str, database: str) -> None:
    url = driver_url(given)

    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == database


@pytest.mark.parametrize(
    "given", ["mysql://u:p@h/db", "mysql+aiomysql://u:p@h/db", "oracle://u:p@h/db"]
)
def test_an_unsupported_database_is_refused_with_a_clear_message(given: str) -> None:
    backend = given.split(":", 1)[0].split("+", 1)[0]

    with pytest.raises(ValueError, match="DATABASE_URL must be postgresql://") as raised:
        driver_url(given)

    message = str(raised.value)
    assert "sqlite:///" in message
    assert f"{backend}://" in message
    assert "p@h" not in message  # the password is not repeated back


async def test_sqlite_in_a_missing_directory_gets_the_directory(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there" / "lucia.db"

    engine = create_engine(driver_url(f"sqlite:///{path}"))
    try:
        assert path.parent.is_dir()
        await ping(engine)
        assert path.is_file()
    finally:
        await engine.dispose()


async def test_sslmode_in_the_url_still_connects(postgres_url: str) -> None:
    """asyncpg rejects `sslmode=`; after the translation the engine connects (the local
    server has no TLS, hence `disable`)."""
    engine = create_engine(driver_url(f"{postgres_url}?sslmode=disable"))
    try:
        await ping(engine)
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:1/nope",
        "postgresql://postgres@127.0.0.1:5432/lucia_no_such_database",
    ],
)
async def test_ping_says_the_database_is_unreachable(url: str) -> None:
    engine = create_engine(driver_url(url))
    try:
        with pytest.raises(StoreUnavailable, match="database unreachable"):
            await ping(engine)
    finally:
        await engine.dispose()
