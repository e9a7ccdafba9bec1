"""The launch gate's synthetic Sentry webhook: an issue alert shaped like Sentry's own,
marked `lucia_trace` in its signed body, sent to the bot's public URL the way Sentry
sends it (its headers, its signature, compact JSON) — so in production it crosses
Cloudflare and Render like a real one. `bot/sentry/payloads.py` reads it back as the
trace's signal, which pages nobody.
"""

from __future__ import annotations

__all__ = ["SyntheticSender", "synthetic_body"]

import hashlib
import hmac
import socket
import ssl
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson

from bot.gate.trace_ports import Accepted

TIMEOUT = 5.0  # seconds; the bot itself answers within Sentry's one
PATH = "/webhooks/sentry"
RESOURCE = "event_alert"


def synthetic_body(trace_id: str, sent_at: float) -> bytes:
    """An `event_alert.triggered` body as Sentry serialises it (key order, no spaces)."""
    occurred = datetime.fromtimestamp(sent_at, UTC)
    event: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "issue_id": f"lucia-trace-{trace_id}",
        "title": f"Lucia alert pipeline trace {trace_id}",
        "level": "info",
        "culprit": "/lucia gate trace",
        "message": "Synthetic alert sent by Lucia's launch gate: it pages nobody.",
        "datetime": occurred.isoformat().replace("+00:00", "Z"),
        "timestamp": sent_at,
        "received": sent_at,
        "tags": [["lucia_trace", trace_id], ["level", "info"]],
        "platform": "python",
        "type": "default",
    }
    payload = {
        "action": "triggered",
        "installation": {"uuid": "lucia-gate-trace"},
        "data": {"event": event, "triggered_rule": "Lucia alert pipeline trace"},
        "actor": {"type": "application", "id": "lucia", "name": "Lucia launch gate"},
        "lucia_trace": trace_id,
    }
    return orjson.dumps(payload)


class SyntheticSender:
    """`TraceSender` over aiohttp: one POST, no redirects followed, a short timeout."""

    def __init__(
        self,
        public_url: str,
        client_secret: str,
        session: aiohttp.ClientSession,
        *,
        timeout: float = TIMEOUT,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._url = public_url.rstrip("/") + PATH
        self._secret = client_secret.encode()
        self._session = session
        self._timeout = timeout
        self._now = now

    async def send(self, trace_id: str) -> Accepted:
        sent_at = self._now()
        body = synthetic_body(trace_id, sent_at)
        headers = {
            "Content-Type": "application/json",
            "Request-ID": uuid.uuid4().hex,
            "Sentry-Hook-Resource": RESOURCE,
            "Sentry-Hook-Timestamp": str(int(sent_at)),
            "Sentry-Hook-Signature": hmac.new(self._secret, body, hashlib.sha256).hexdigest(),
        }
        started = time.perf_counter()

        def took() -> float:
            return round((time.perf_counter() - started) * 1000, 1)

        try:
            async with self._session.post(
                self._url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                # A redirect (a Cloudflare Access login, say) is not the bot accepting it.
                allow_redirects=False,
            ) as response:
                status = response.status
                raw = await response.read()
                location = response.headers.get("Location", "")
        except aiohttp.ClientSSLError as exc:
            return Accepted(None, took(), _tls_problem(exc))
        except aiohttp.ClientConnectorError as exc:
            return Accepted(None, took(), _os_error(exc.os_error))
        except TimeoutError:
            return Accepted(None, took(), f"no answer within {self._timeout:g} s")
        except aiohttp.InvalidURL:
            return Accepted(None, took(), f"{self._url} is not a URL")
        except aiohttp.ClientError as exc:
            what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return Accepted(None, took(), what)
        elapsed = took()
        answer = _json(raw)
        if 200 <= status < 300:
            delivery = answer.get("accepted")
            delivery_id = delivery if isinstance(delivery, int) else None
            return Accepted(status, elapsed, None, delivery_id)
        return Accepted(status, elapsed, _refusal(status, answer, location))


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _refusal(status: int, answer: dict[str, Any], location: str) -> str:
    error = answer.get("error")
    words = f"answered HTTP {status}"
    if isinstance(error, str) and error:
        return f"{words}: {error[:300]}"
    if 300 <= status < 400 and location:
        return f"{words}, a redirect to {location[:300]}"
    return words


def _os_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "host not found"
    return exc.strerror or str(exc) or type(exc).__name__


def _tls_problem(exc: aiohttp.ClientSSLError) -> str:
    cause = exc.os_error
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({cause.verify_message})"
    return f"TLS failed ({cause.strerror or cause})"
