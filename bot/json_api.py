"""One call to a SaaS JSON API (Supabase's Management API, Cloudflare's), and every way it
can fail to answer, in words for people: the adapters read what did answer."""

from __future__ import annotations

__all__ = ["Answer", "call"]

import json
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # parsed JSON; None when empty or not JSON
    is_json: bool
    headers: Mapping[str, str]


async def call(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    service: str,  # "Supabase", "Cloudflare": how the words name it
    address: str,  # what names the base URL when it isn't one: "CLOUDFLARE_API_URL …"
    headers: Mapping[str, str],
    within: float,  # seconds, for the whole call
    data: str | None = None,
) -> Answer | str:
    """The answer, redirects not followed (a token goes nowhere else), or why none came."""
    try:
        async with session.request(
            method,
            url,
            data=data,
            headers=dict(headers),
            timeout=aiohttp.ClientTimeout(total=within),
            allow_redirects=False,
        ) as response:
            raw = await response.read()
            body, is_json = _json_of(raw)
            return Answer(response.status, body, is_json, response.headers.copy())
    except TimeoutError:
        return f"{service} didn't answer within {within:g} s"
    except aiohttp.ClientConnectorCertificateError as exc:
        cause = exc.certificate_error
        why = cause.verify_message if isinstance(cause, ssl.SSLCertVerificationError) else ""
        return f"{service} unreachable: TLS certificate not trusted ({why or cause})"
    except aiohttp.ClientSSLError as exc:
        return f"{service} unreachable: TLS failed ({exc.os_error.strerror or exc.os_error})"
    except aiohttp.ClientConnectorError as exc:
        return f"{service} unreachable: {_os_problem(exc.host, exc.os_error)}"
    except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError):
        return f"{address} is not an http(s) URL"
    except aiohttp.ServerDisconnectedError:
        return f"{service} closed the connection without answering"
    except aiohttp.ClientError as exc:
        what = type(exc).__name__
        return f"{service} unreachable: {what}" + (f" ({exc})" if str(exc) else "")


def _json_of(raw: bytes) -> tuple[Any, bool]:
    """(parsed body, whether it was JSON); an empty body is (None, False)."""
    if not raw.strip():
        return None, False
    try:
        return json.loads(raw), True
    except ValueError:  # UnicodeDecodeError is one
        return None, False


def _os_problem(host: str, cause: OSError) -> str:
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, socket.gaierror):
        if cause.errno == socket.EAI_NONAME:
            return f"host not found: {host}"
        return f"DNS lookup failed for {host}: {cause.strerror or cause}"
    return cause.strerror or str(cause) or type(cause).__name__
