"""A local stand-in for Supabase's Management API backup list, served over real HTTP on
127.0.0.1: ``GET /v1/projects/{ref}/database/backups`` with ``Authorization: Bearer <token>``
(``/work/shared/reference/gate.md``).

Point ``SupabaseBackups(session, fake.token, fake.project_ref, fake.url)`` at it. It answers
with the documented body (`V1BackupsResponse`), built from its state: `region`,
`pitr_enabled`, `walg_enabled`, `backups` (the API's dicts) and `physical_backup_data`; set
them, or `serve` a fixture of ``/work/shared/fixtures/supabase/`` (the default is the
recorded empty list). Every answer carries the recorded rate-limit headers,
``x-ratelimit-limit: 120``, ``x-ratelimit-remaining`` and ``x-ratelimit-reset`` (seconds
until the window ends), and a call past the limit is answered 429. A missing or wrong
token is answered 401, another project ref 404, each with a JSON ``{"message": …}`` body
(the words are the fake's own: Supabase documents the statuses, not the text).

`rate_limit_next` makes the next call a 429 (with ``Retry-After``, or only the reset
header); `answer_next` makes it any status and body (JSON, or raw bytes); `delay` makes
every call answer late. Every request is kept in `calls`, refused ones too.
"""

from __future__ import annotations

__all__ = ["DEFAULT_PROJECT_REF", "DEFAULT_TOKEN", "FakeSupabaseAPI", "SupabaseCall"]

import asyncio
import contextlib
import json
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from tests.drivers.payloads import supabase_fixture
from tests.fakes.local_server import LocalServer

DEFAULT_TOKEN = "sbp_0f3e5d7c9b1a2f4e6d8c0b2a4f6e8d0c2b4a6f8e"  # the shape of a personal token
DEFAULT_PROJECT_REF = "abcdefghijklmnopqrst"  # 20 lower-case letters, like a real ref
_BACKUPS = "/v1/projects/{ref}/database/backups"


@dataclass
class SupabaseCall:
    method: str
    path: str
    headers: CIMultiDict[str]
    at: float = field(default_factory=time.monotonic)
    status: int | None = None  # what the fake answered


@dataclass
class _Next:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]


class FakeSupabaseAPI(LocalServer):
    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        project_ref: str = DEFAULT_PROJECT_REF,
        limit: int = 120,
        window: float = 60.0,
    ) -> None:
        super().__init__()
        self.token = token
        self.project_ref = project_ref
        self.limit = limit  # requests per window, as recorded
        self.window = window  # seconds
        self.calls: list[SupabaseCall] = []
        self.region = ""
        self.pitr_enabled = False
        self.walg_enabled = False
        self.backups: list[dict[str, Any]] = []
        self.physical_backup_data: dict[str, Any] = {}
        self.serve("backups_recorded_empty.json")
        self._next: list[_Next] = []
        self._delay = 0.0
        self._window_start: float | None = None
        self._used = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    @property
    def url(self) -> str:
        return self.base

    # ----------------------------------------------------------------- test helpers
    def serve(self, fixture: str) -> None:
        """Answer with the body of a fixture in shared/fixtures/supabase/."""
        body = supabase_fixture(fixture)
        self.region = body["region"]
        self.pitr_enabled = body["pitr_enabled"]
        self.walg_enabled = body["walg_enabled"]
        self.backups = list(body["backups"])
        self.physical_backup_data = dict(body["physical_backup_data"])

    def add_backup(
        self, inserted_at: datetime, status: str = "COMPLETED", *, physical: bool = True
    ) -> dict[str, Any]:
        """A daily backup, newest first in the list (as the API lists them)."""
        backup = {
            "id": 4000 + len(self.backups) + 1,
            "inserted_at": inserted_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "is_physical_backup": physical,
            "status": status,
        }
        self.backups.insert(0, backup)
        return backup

    def enable_pitr(self, earliest: datetime, latest: datetime) -> None:
        """PITR on: no daily backups listed, the recoverable window in unix seconds."""
        self.pitr_enabled = True
        self.walg_enabled = True
        self.backups = []
        self.physical_backup_data = {
            "earliest_physical_backup_date_unix": int(earliest.timestamp()),
            "latest_physical_backup_date_unix": int(latest.timestamp()),
        }

    def rate_limit_next(
        self, *, retry_after: float | None = 30.0, reset: float | None = None
    ) -> None:
        """The next call is refused with 429 and `Retry-After` (None: none sent) and
        `x-ratelimit-reset` set to `reset` (None: what the window says)."""
        headers = {"x-ratelimit-remaining": "0"}
        if retry_after is not None:
            headers["Retry-After"] = _number(retry_after)
        if reset is not None:
            headers["x-ratelimit-reset"] = _number(reset)
        self._next.append(_Next(429, _json({"message": "Too many requests"}), _JSON, headers))

    def answer_next(
        self,
        status: int,
        body: Any = None,
        *,
        raw: bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next call is answered `status` with JSON `body`, or exactly `raw`."""
        payload = raw if raw is not None else (b"" if body is None else _json(body))
        kind = content_type or (_JSON if raw is None else "text/html")
        self._next.append(_Next(status, payload, kind, dict(headers or {})))

    def delay(self, seconds: float) -> None:
        """Every later call is answered only after `seconds` (a slow Supabase)."""
        self._delay = seconds

    # ----------------------------------------------------------------- HTTP layer
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        call = SupabaseCall(request.method, request.path, request.headers.copy())
        self.calls.append(call)
        if self._delay and self._closing is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self._delay)
        status, body, content_type, extra = self._answer(call)
        call.status = status
        headers = self._rate_headers() | extra
        return web.Response(status=status, body=body, content_type=content_type, headers=headers)

    def _answer(self, call: SupabaseCall) -> tuple[int, bytes, str, dict[str, str]]:
        if call.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, _json({"message": "Unauthorized"}), _JSON, {}
        self._count()
        if self._next:
            planned = self._next.pop(0)
            return planned.status, planned.body, planned.content_type, planned.headers
        if self._used > self.limit:
            return 429, _json({"message": "Too many requests"}), _JSON, {}
        if call.path != _BACKUPS.format(ref=self.project_ref):
            if call.path.startswith("/v1/projects/") and call.path.endswith("/database/backups"):
                return 404, _json({"message": "Project not found"}), _JSON, {}
            return 404, _json({"message": "Cannot GET " + call.path}), _JSON, {}
        if call.method != "GET":
            return 405, _json({"message": f"Cannot {call.method} {call.path}"}), _JSON, {}
        return 200, _json(self._body()), _JSON, {}

    def _body(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "pitr_enabled": self.pitr_enabled,
            "walg_enabled": self.walg_enabled,
            "backups": self.backups,
            "physical_backup_data": self.physical_backup_data,
        }

    # ----------------------------------------------------------------- rate limits
    def _count(self) -> None:
        now = time.monotonic()
        if self._window_start is None or now - self._window_start >= self.window:
            self._window_start, self._used = now, 0
        self._used += 1

    def _rate_headers(self) -> dict[str, str]:
        now = time.monotonic()
        fresh = self._window_start is None or now - self._window_start >= self.window
        used = 0 if fresh else self._used
        ends_in = (
            self.window
            if fresh or self._window_start is None
            else (self._window_start + self.window - now)
        )
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(max(0, self.limit - used)),
            "x-ratelimit-reset": str(max(1, math.ceil(ends_in))),
        }


_JSON = "application/json"


def _json(body: Any) -> bytes:
    return json.dumps(body).encode()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
