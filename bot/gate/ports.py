"""What the gate needs from outside, as the core sees it: an anonymous look at a URL and
Supabase's list of database backups. The adapters: `bot/probe/` and `bot/supabase/`."""

from __future__ import annotations

__all__ = ["Backup", "BackupList", "BackupsAPI", "UrlProbe", "UrlSeen"]

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class UrlSeen:
    """What one anonymous GET of a URL showed, redirects not followed.

    `status` is None when no HTTP answer came; `problem` then says why in plain words
    ("timed out after 5 s", "certificate verify failed: self-signed certificate",
    "connection refused")."""

    url: str
    status: int | None
    location: str | None = None  # the Location of a 3xx, made absolute
    problem: str | None = None
    elapsed_ms: float = 0.0


class UrlProbe(Protocol):
    async def look(self, url: str, within: float) -> UrlSeen:
        """Never raises for what the URL does: every outcome is a `UrlSeen`."""
        ...


@dataclass(frozen=True)
class Backup:
    id: str
    inserted_at: datetime
    status: str  # COMPLETED, FAILED, PENDING, REMOVED, ARCHIVED, CANCELLED (upper case)
    is_physical_backup: bool


@dataclass(frozen=True)
class BackupList:
    """`GET /v1/projects/{ref}/database/backups`, read defensively."""

    region: str
    pitr_enabled: bool
    walg_enabled: bool
    backups: tuple[Backup, ...]
    earliest_physical_backup: datetime | None = None
    latest_physical_backup: datetime | None = None


class BackupsAPI(Protocol):
    async def backups(self) -> BackupList:
        """Raises `EvidenceUnavailable` with a reason for people (a refused token, a rate
        limit with its wait, a timeout, a body of the wrong shape)."""
        ...
