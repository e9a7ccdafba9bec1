"""What makes a DATABASE_URL mean something other than it seems, checked before anything
connects (by `Settings`, so `check-config` and `serve` refuse it alike)."""

from __future__ import annotations

__all__ = ["PERCENT_ESCAPES", "url_problem"]

from urllib.parse import urlsplit

PERCENT_ESCAPES = "# → %23, @ → %40, / → %2F, ? → %3F, % → %25"
_ENCODE = f"percent-encode it in DATABASE_URL ({PERCENT_ESCAPES})"


def url_problem(database_url: str) -> str | None:
    """What makes a `postgresql://` URL mean something other than it seems, or None.

    URL readers disagree on an unencoded `#`, `@` or `?` in the password: SQLAlchemy reads
    one thing, libpq and most tools another. Refused before anything connects."""
    if not database_url.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        return None
    parts = urlsplit(database_url)
    userinfo, _, host = parts.netloc.rpartition("@")
    if parts.fragment or "#" in database_url:
        return f"has a `#` in it, which ends a URL: if it is in the password, {_ENCODE}"
    if "@" in userinfo:
        return f"has more than one `@` before the host: if one is in the password, {_ENCODE}"
    if not host or host.startswith(":"):
        return "has no host: postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        return (
            f"has a port that isn't a number (`{host.rpartition(':')[2]}`): if the password "
            f"has a `/`, `?` or `:`, {_ENCODE}"
        )
    return None
