"""Why a database can't be reached, in one line an operator can act on.

`lucia-bot migrate` is Render's pre-deploy step: its output is read in a deploy log, where a
128-line traceback hides the one fact that matters (a wrong port, a database that doesn't
exist, a password that needed percent-encoding).
"""

from __future__ import annotations

__all__ = ["connection_problem"]

import socket
import ssl

from sqlalchemy.engine import URL

from bot.database_url import PERCENT_ESCAPES


def connection_problem(url: URL, exc: BaseException) -> str:
    """`exc`, raised while connecting to `url`, as one line naming where and what to do."""
    where = f"{url.host or 'localhost'}:{url.port or 5432}, database {url.database or '?'}"
    if url.get_backend_name() == "sqlite":
        where = f"the SQLite file {url.database}"
    cause = _cause(exc, ca_file=url.query.get("sslrootcert"))
    return f"can't use the database at {where}: {cause}"


def _cause(exc: BaseException, *, ca_file: object) -> str:
    chain = [exc]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)  # type: ignore[arg-type]
        if len(chain) > 10:
            break
    if ca_file and any(isinstance(e, FileNotFoundError) for e in chain):
        return (
            f"the CA file that sslrootcert= names ({ca_file}) doesn't exist: add it (on "
            "Render, a Secret File under /etc/secrets/), or end the URL in ?sslmode=require "
            "until it is there"
        )
    names = {type(e).__name__ for e in chain}
    text = " ".join(str(e) for e in chain)
    if any(isinstance(e, socket.gaierror) for e in chain):
        return "the host name doesn't resolve: check the host in DATABASE_URL"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return (
            "the connection was refused: check the host and port "
            "(from Render, Supabase's session pooler on 5432)"
        )
    if "InvalidCatalogNameError" in names or ("database" in text and "does not exist" in text):
        return "that database does not exist: create it, or fix the name after the last `/`"
    if "InvalidPasswordError" in names or "password authentication failed" in text:
        return (
            "the password was refused: check it, and if it has any of # @ / ? %, "
            f"percent-encode them in DATABASE_URL ({PERCENT_ESCAPES})"
        )
    if refused := next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None):
        return (
            f"the server's certificate was refused ({refused.verify_message}): point "
            "sslrootcert= at the CA that signed it (Supabase: Database → Settings → SSL "
            "Configuration → Download certificate)"
        )
    if any(isinstance(e, TimeoutError) for e in chain):
        return "no answer in time: check the host and port, and that the database is up"
    if any(isinstance(e, OSError) for e in chain):
        return f"the network failed ({next(e for e in chain if isinstance(e, OSError))})"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no detail'}"
