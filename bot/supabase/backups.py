"""`SupabaseBackups`: the Management API's backup list over aiohttp, the adapter behind
`BackupsAPI`.

Facts it follows: ``/work/shared/reference/gate.md`` (Supabase Management API: backups).
One GET of ``/v1/projects/{ref}/database/backups`` with the personal access token as a
Bearer token, no retries (the gate asks again when someone asks it again), redirects not
followed (the token goes to the API base and nowhere else).

The body is read defensively: what the gate's verdict depends on (the backups, each one's
id, time and status, whether PITR is on) must be there and of the right type, or the
answer is `EvidenceUnavailable`; what only describes (the region, a physical backup date
that isn't a number) is "not known". Times become aware UTC datetimes; a status Supabase
adds later is kept, upper-cased.

Every `EvidenceUnavailable` reason is written for the person reading the gate, and the
token never appears in one, in `repr`, or in an exception chained to one (aiohttp's errors
carry the request's headers). Nothing is logged here.
"""

from __future__ import annotations

__all__ = ["DEFAULT_BASE_URL", "SupabaseBackups"]

import math
from datetime import UTC, datetime
from urllib.parse import quote

import aiohttp

from bot.errors import EvidenceUnavailable
from bot.gate.ports import Backup, BackupList
from bot.json_api import Answer, call
from bot.render.waits import rate_limit_wait

DEFAULT_BASE_URL = "https://api.supabase.com"
_TOKEN_HELP = "create a personal access token under Account → Access Tokens"  # noqa: S105
_MAX_DETAIL = 200  # characters of Supabase's own message kept in a reason


class SupabaseBackups:
    """`bot.gate.ports.BackupsAPI` for one project."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        project_ref: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 10.0,
    ) -> None:
        self._session = session
        self._token = token
        self._ref = project_ref
        self._base = base_url.rstrip("/")
        self._timeout_seconds = timeout

    def __repr__(self) -> str:
        return f"SupabaseBackups({self._base}, project {self._ref})"

    async def backups(self) -> BackupList:
        # _get returns a failure rather than raising it, so no EvidenceUnavailable carries
        # aiohttp's exception (and the Authorization header) as its __context__.
        answer = await self._get(f"/v1/projects/{quote(self._ref, safe='')}/database/backups")
        if isinstance(answer, str):
            raise self._error(answer)
        if not 200 <= answer.status < 300:
            raise self._error(self._refusal(answer))
        if not answer.is_json:
            raise self._error(f"Supabase answered {answer.status} with a body that is not JSON")
        found = _backup_list(answer.body)
        if isinstance(found, str):
            raise self._error(
                f"Supabase's backup list of project {self._ref} is unreadable: {found}"
            )
        return found

    async def _get(self, path: str) -> Answer | str:
        """The answer, or why there was none."""
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        return await call(
            self._session,
            "GET",
            self._base + path,
            service="Supabase",
            address=f"the Supabase API address {self._base!r}",
            headers=headers,
            within=self._timeout_seconds,
        )

    def _refusal(self, answer: Answer) -> str:
        status = answer.status
        message = self._redacted(_message_of(answer.body))[:_MAX_DETAIL]
        detail = f": {message}" if message else ""
        if status in (401, 403):
            return f"Supabase refused SUPABASE_ACCESS_TOKEN ({status}): {_TOKEN_HELP}"
        if status == 404:
            return f"no Supabase project {self._ref}: check SUPABASE_PROJECT_REF"
        if status == 429:
            wait = rate_limit_wait(answer.headers, reset_header="x-ratelimit-reset")
            if wait is None or not math.isfinite(wait):
                return "Supabase's rate limit: try again in a minute"
            return f"Supabase's rate limit: try again in {max(1, math.ceil(wait))} s"
        if 300 <= status < 400:
            where = answer.headers.get("Location", "elsewhere")
            return (
                f"Supabase redirected the backup list ({status}) to {where}: "
                f"is {self._base} the API base, e.g. {DEFAULT_BASE_URL}?"
            )
        if status >= 500:
            return f"Supabase failed ({status}){detail}: try again later"
        return f"Supabase refused the backup list of project {self._ref} ({status}){detail}"

    def _error(self, reason: str) -> EvidenceUnavailable:
        return EvidenceUnavailable(self._redacted(reason))

    def _redacted(self, text: str) -> str:
        """Supabase might echo what it was sent: never pass the token on."""
        if len(self._token) >= 4:
            text = text.replace(self._token, "[SUPABASE_ACCESS_TOKEN]")
        return text


# --------------------------------------------------------------------- the body
def _backup_list(body: object) -> BackupList | str:
    """The list, or what is wrong with the body."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    items = body.get("backups")
    if not isinstance(items, list):
        return "`backups` is missing or not a list"
    flags: dict[str, bool] = {}
    for name in ("pitr_enabled", "walg_enabled"):
        flag = body.get(name)
        if not isinstance(flag, bool):
            return f"`{name}` is missing or not true/false"
        flags[name] = flag
    backups: list[Backup] = []
    for number, item in enumerate(items, start=1):
        backup = _backup(item)
        if isinstance(backup, str):
            return f"backup {number} of {len(items)} {backup}"
        backups.append(backup)
    region = body.get("region")
    physical = body.get("physical_backup_data")
    physical = physical if isinstance(physical, dict) else {}
    return BackupList(
        region=region if isinstance(region, str) else "",
        pitr_enabled=flags["pitr_enabled"],
        walg_enabled=flags["walg_enabled"],
        backups=tuple(backups),
        earliest_physical_backup=_unix(physical.get("earliest_physical_backup_date_unix")),
        latest_physical_backup=_unix(physical.get("latest_physical_backup_date_unix")),
    )


def _backup(item: object) -> Backup | str:
    if not isinstance(item, dict):
        return "is not an object"
    backup_id = item.get("id")
    if isinstance(backup_id, bool) or not isinstance(backup_id, int | str) or backup_id == "":
        return "has no id"
    inserted_at = _iso(item.get("inserted_at"))
    if inserted_at is None:
        return "has no readable `inserted_at` time"
    status = item.get("status")
    if not isinstance(status, str) or not status.strip():
        return "has no status"
    return Backup(
        id=str(backup_id),
        inserted_at=inserted_at,
        status=status.strip().upper(),
        is_physical_backup=item.get("is_physical_backup") is True,
    )


def _iso(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _unix(value: object) -> datetime | None:
    """Seconds since the epoch, as Supabase's `*_unix` fields give them; else not known."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):  # out of range, or NaN
        return None


def _message_of(body: object) -> str:
    if isinstance(body, dict):
        for key in ("message", "error"):
            message = body.get(key)
            if isinstance(message, str) and message.strip():
                return message.strip()
    return ""
