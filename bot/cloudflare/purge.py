"""`CloudflarePurge`: Cloudflare's API v4 purge by URL over aiohttp, the adapter behind
`bot.status.ports.CachePurge`.

Facts it follows (Cloudflare's docs, "Purge by single-file (by URL)" and the API's
`POST /zones/{zone_id}/purge_cache`):

- the call is ``POST {base}/zones/{zone_id}/purge_cache`` with ``Authorization: Bearer
  <API token>`` and ``{"files": [url, …]}``; the token needs the zone's Cache Purge
  permission;
- one call takes at most 30 URLs on the Free, Pro and Business plans (500 on
  Enterprise), so the URLs go in batches of `MAX_URLS_PER_REQUEST`;
- every answer is the v4 envelope ``{"success", "errors": [{"code", "message"}],
  "messages", "result"}``, and only ``success: true`` is a purge: a 200 that says
  ``success: false`` (or nothing) is a failure;
- a refused token is code 10000 ("Authentication error", 401 or 403), a malformed
  Authorization header 6003/6111 (400), an identifier that routes nowhere 7003, a path
  that is no API endpoint 7000.

One short retry: a 429 whose `Retry-After` is at most `MAX_RETRY_WAIT` seconds is waited
out and the batch sent once more (a purge is idempotent); a longer wait is said, not
waited, since someone is waiting for the publish's answer and the page updates within
its max-age anyway. A 5xx, a time-out (`DEFAULT_TIMEOUT` per call) or a broken
connection is said at once. Redirects are not followed: the token goes to the API base
and nowhere else.

Every `CachePurgeFailed` reason is written for the person who published, names the
setting to check where one is to blame, and never holds the token (nor does `repr`, nor
an exception chained to the error: aiohttp's errors carry the request's headers).
Nothing is logged here.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "MAX_RETRY_WAIT",
    "MAX_URLS_PER_REQUEST",
    "CloudflarePurge",
]

import asyncio
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.errors import CachePurgeFailed
from bot.json_api import Answer, call
from bot.render.waits import retry_after

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_TIMEOUT = 5.0  # seconds per call: a publish is waiting for the answer
MAX_URLS_PER_REQUEST = 30  # Free, Pro and Business plans (Enterprise: 500)
MAX_RETRY_WAIT = 2.0  # seconds of Retry-After worth waiting once

_TOKEN_REFUSED = "it needs the Cache Purge permission on the zone"  # noqa: S105
_AUTH_CODES = frozenset({10000})  # "Authentication error"
_HEADER_CODES = frozenset({6003, 6111})  # "Invalid request headers" / Authorization format
_ROUTE_CODES = frozenset({7003})  # "Could not route to …, perhaps your object identifier…"
_NO_ROUTE_CODES = frozenset({7000})  # "No route for that URI": not an API path
_ZONE_HELP = "the Zone ID on the domain's Overview page"
_MAX_DETAIL = 200  # characters of Cloudflare's own words kept in a reason


@dataclass(frozen=True)
class _Said:
    """Cloudflare's errors, read from the envelope."""

    codes: frozenset[int]
    text: str  # "message (code); …", or "" when it gave none


class CloudflarePurge:
    """`bot.status.ports.CachePurge` for one zone."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        zone_id: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        batch_size: int = MAX_URLS_PER_REQUEST,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._session = session
        self._token = token
        self._zone = zone_id
        self._base = base_url.rstrip("/")
        self._timeout_seconds = timeout
        self._batch_size = batch_size

    def __repr__(self) -> str:
        return f"CloudflarePurge({self._base}, zone {self._zone})"

    async def purge(self, urls: Sequence[str]) -> None:
        """Every URL purged, in batches Cloudflare takes; else `CachePurgeFailed`."""
        wanted = list(dict.fromkeys(urls))  # once each, in the order given
        if not wanted:
            return
        if not self._token or any(c.isspace() or not c.isprintable() for c in self._token):
            # aiohttp would refuse the header (and Cloudflare answer 6111): say it plainly.
            raise CachePurgeFailed(
                "CLOUDFLARE_API_TOKEN is empty or has spaces or a line break in it: "
                "set it to the API token alone"
            )
        done = 0
        for start in range(0, len(wanted), self._batch_size):
            batch = wanted[start : start + self._batch_size]
            problem = await self._purge_batch(batch)
            if problem is not None:
                if done:
                    problem += f" — {done} of {len(wanted)} URLs were purged before that"
                raise CachePurgeFailed(self._redacted(problem))
            done += len(batch)

    # ----------------------------------------------------------------- one call
    async def _purge_batch(self, batch: list[str]) -> str | None:
        """None when Cloudflare purged the batch, else why not."""
        answer = await self._post({"files": batch})
        if isinstance(answer, Answer) and answer.status == 429:
            wait = retry_after(answer.headers)
            if wait is not None and wait <= MAX_RETRY_WAIT:
                await asyncio.sleep(wait)
                answer = await self._post({"files": batch})
        if isinstance(answer, str):
            return answer
        return self._verdict(answer)

    async def _post(self, body: dict[str, Any]) -> Answer | str:
        """The answer, or why there was none. Failures are returned, not raised, so no
        CachePurgeFailed carries aiohttp's exception (and the token) as __context__."""
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        return await call(
            self._session,
            "POST",
            f"{self._base}/zones/{quote(self._zone, safe='')}/purge_cache",
            service="Cloudflare",
            address=f"CLOUDFLARE_API_URL {self._base!r}",
            headers=headers,
            within=self._timeout_seconds,
            data=json.dumps(body),
        )

    # ----------------------------------------------------------------- the answer
    def _verdict(self, answer: Answer) -> str | None:
        status = answer.status
        said = _errors_of(answer.body)
        detail = f": {said.text}" if said.text else ""
        if said.codes & _AUTH_CODES or status in (401, 403):
            shown = status if status in (401, 403) else f"{status}, code 10000"
            return f"Cloudflare refused CLOUDFLARE_API_TOKEN ({shown}): {_TOKEN_REFUSED}"
        if said.codes & _HEADER_CODES:
            return (
                f"Cloudflare couldn't read CLOUDFLARE_API_TOKEN ({status}){detail}: "
                "set it to the API token alone, without `Bearer`"
            )
        if said.codes & _ROUTE_CODES:
            return (
                f"Cloudflare knows no zone {self._zone} ({status}): check CLOUDFLARE_ZONE_ID "
                f"({_ZONE_HELP})"
            )
        if said.codes & _NO_ROUTE_CODES:
            return (
                f"Cloudflare has no purge endpoint at {self._base} ({status}): is "
                f"CLOUDFLARE_API_URL the API base, e.g. {DEFAULT_BASE_URL}?"
            )
        if status == 404:
            return (
                f"Cloudflare found no zone {self._zone} at {self._base} (404): check "
                f"CLOUDFLARE_ZONE_ID ({_ZONE_HELP}) and CLOUDFLARE_API_URL"
            )
        if status == 429:
            wait = retry_after(answer.headers)
            if wait is None or not math.isfinite(wait):
                return "Cloudflare's purge rate limit: try again in a minute"
            return f"Cloudflare's purge rate limit: try again in {max(1, math.ceil(wait))} s"
        if 300 <= status < 400:
            where = answer.headers.get("Location", "elsewhere")
            return (
                f"Cloudflare redirected the purge ({status}) to {where}: is CLOUDFLARE_API_URL "
                f"the API base, e.g. {DEFAULT_BASE_URL}?"
            )
        if status >= 500:
            return f"Cloudflare failed ({status}){detail}"
        if not 200 <= status < 300:
            return f"Cloudflare refused the purge ({status}){detail}"
        if not answer.is_json:
            return f"Cloudflare answered {status} with a body that is not JSON"
        success = answer.body.get("success") if isinstance(answer.body, dict) else None
        if success is True:
            return None
        if success is False:
            return f"Cloudflare didn't purge ({status}, success: false){detail}"
        return f"Cloudflare's answer ({status}) doesn't say the purge succeeded"

    def _redacted(self, text: str) -> str:
        """Cloudflare might echo what it was sent: never pass the token on."""
        if len(self._token) >= 4:
            text = text.replace(self._token, "[CLOUDFLARE_API_TOKEN]")
        return text


# --------------------------------------------------------------------- reading bodies
def _errors_of(body: object) -> _Said:
    """The envelope's `errors` (and each one's `error_chain`), read defensively."""
    if not isinstance(body, dict):
        return _Said(frozenset(), "")
    codes: set[int] = set()
    parts: list[str] = []
    errors = body.get("errors")
    pending = list(errors) if isinstance(errors, list) else []
    while pending and len(parts) < 5:
        item = pending.pop(0)
        if not isinstance(item, dict):
            continue
        raw_code, message = item.get("code"), item.get("message")
        code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
        text = message.strip() if isinstance(message, str) else ""
        if code is not None:
            codes.add(code)
            parts.append(f"{text or 'error'} ({code})")
        elif text:
            parts.append(text)
        chain = item.get("error_chain")
        if isinstance(chain, list):
            pending[:0] = chain
    return _Said(frozenset(codes), "; ".join(parts)[:_MAX_DETAIL])
