"""`HttpUrlProbe`: one anonymous look at a URL over aiohttp, the adapter behind `UrlProbe`.

What it does, so the gate can trust what it reports:

- one GET, with no credentials of its own and redirects not followed: a Cloudflare Access
  sign-in redirect is reported as the 302 it is, with its Location made absolute, never as
  the sign-in page's 200;
- TLS verified with the default context (system roots), or against `ca_file` alone;
- the body is not read: the status and the Location are the answer, and a page that never
  ends can't hold the probe;
- everything within `within` seconds, connecting included.

Whatever the URL does (no answer in time, a refused connection, an unknown host, a
certificate that isn't trusted, a string that isn't a URL) comes back as a `UrlSeen` with
`status=None` and the reason in plain words. Give it a session with no default
`Authorization` and no cookie jar (`aiohttp.DummyCookieJar()`), so nothing else makes the
look less anonymous. Nothing is logged here.
"""

from __future__ import annotations

__all__ = ["HttpUrlProbe"]

import socket
import ssl
import time
from pathlib import Path
from urllib.parse import urljoin

import aiohttp

from bot.gate.ports import UrlSeen


class HttpUrlProbe:
    """`bot.gate.ports.UrlProbe` over an aiohttp session."""

    def __init__(
        self, session: aiohttp.ClientSession, *, ca_file: str | Path | None = None
    ) -> None:
        self._session = session
        # With a ca_file only that CA is trusted (tests with a local CA); else the system's.
        self._tls = ssl.create_default_context(cafile=None if ca_file is None else str(ca_file))

    async def look(self, url: str, within: float) -> UrlSeen:
        if within <= 0:
            raise ValueError("within must be a positive number of seconds")
        started = time.perf_counter()
        status: int | None = None
        location: str | None = None
        problem: str | None = None
        try:
            async with self._session.get(
                url,
                allow_redirects=False,
                ssl=self._tls,
                timeout=aiohttp.ClientTimeout(total=within),
            ) as response:
                status = response.status
                if 300 <= status < 400 and (target := response.headers.get("Location")):
                    location = urljoin(url, target)
        except TimeoutError:  # connecting, the handshake or the answer: all count
            problem = f"timed out after {within:g} s"
        except aiohttp.ClientConnectorCertificateError as exc:
            problem = _certificate_problem(exc.certificate_error)
        except aiohttp.ClientSSLError as exc:
            problem = _tls_problem(exc.os_error)
        except aiohttp.ClientConnectorDNSError as exc:
            problem = _dns_problem(exc.host, exc.os_error)
        except aiohttp.ClientConnectorError as exc:
            problem = _connect_problem(exc.os_error)
        except aiohttp.ServerDisconnectedError:
            problem = "the server closed the connection without answering"
        except aiohttp.NonHttpUrlClientError:
            problem = f"not an http or https URL: {url!r}"
        except aiohttp.InvalidURL:
            problem = f"not a URL: {url!r}"
        except aiohttp.ClientResponseError as exc:  # what came back wasn't HTTP
            problem = f"the answer was not HTTP ({exc.message})"
        except aiohttp.ClientError as exc:
            problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        return UrlSeen(url, status, location=location, problem=problem, elapsed_ms=elapsed_ms)


def _certificate_problem(cause: Exception) -> str:
    if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
        return f"certificate verify failed: {cause.verify_message}"
    return f"certificate verify failed: {cause}"


def _tls_problem(cause: OSError) -> str:
    if isinstance(cause, ssl.SSLError) and cause.reason:
        return f"TLS handshake failed: {cause.reason.lower().replace('_', ' ')}"
    return f"TLS handshake failed: {cause.strerror or cause}"


def _dns_problem(host: str, cause: OSError) -> str:
    if isinstance(cause, socket.gaierror) and cause.errno == socket.EAI_NONAME:
        return f"host not found: {host}"
    return f"DNS lookup failed for {host}: {cause.strerror or cause}"


def _connect_problem(cause: OSError) -> str:
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    return f"could not connect: {cause.strerror or cause}"
