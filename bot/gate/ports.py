"""What the gate needs from outside, as the core sees it: an anonymous look at a URL and
Supabase's list of database backups, and the gate's own storage. The adapters:
`bot/probe/`, `bot/supabase/` and `bot/store/gate_store.py`."""

from __future__ import annotations

__all__ = ["Backup", "BackupList", "BackupsAPI", "GateChat", "GateStore", "UrlProbe", "UrlSeen"]

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.types import UserId

if TYPE_CHECKING:
    from bot.gate.judge import DrillRecord, IncidentFacts
    from bot.gate.model import Evaluation, Evidence, GateException, SignOff
    from bot.gate.replies import GateReport


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


class GateStore(Protocol):
    """Everything the gate keeps and reads (the adapter: `bot/store/gate_store.py`)."""

    async def record(self, evidence: Sequence[Evidence]) -> None: ...

    async def latest_evidence(self, item: str) -> Sequence[Evidence]:
        """The newest evidence of `item` for each of its subjects."""
        ...

    async def record_evaluation(self, evaluation: Evaluation, by: UserId) -> str | None:
        """Keeps it; returns the verdict of the phase's previous evaluation (None: first)."""
        ...

    async def evaluations(self, phase: str, limit: int) -> Sequence[Evaluation]:
        """The newest `limit` evaluations of `phase`, oldest first."""
        ...

    async def sign(self, signoff: SignOff) -> SignOff: ...

    async def unsign(self, phase: str, item: str, by: UserId, at: datetime) -> int: ...

    async def signoffs(self, now: datetime) -> Mapping[tuple[str, str], SignOff]:
        """The newest sign-off of each (phase, item) not withdrawn, even if it expired."""
        ...

    async def add_exception(self, exception: GateException) -> GateException: ...

    async def withdraw_exceptions(self, phase: str, by: UserId, at: datetime) -> int: ...

    async def exceptions(self, now: datetime) -> Sequence[GateException]:
        """Exceptions neither withdrawn nor expired at `now`."""
        ...

    async def incident_facts(self, resolved_since: datetime) -> IncidentFacts: ...

    async def drills(
        self, playbook: str, services: Sequence[str]
    ) -> tuple[DrillRecord | None, DrillRecord | None]:
        """(the newest passed run, the newest finished run) of `playbook` on `services`."""
        ...


class GateChat(Protocol):
    """Where a changed verdict is announced (Slack's incidents channel, the terminal)."""

    async def post_gate(self, channel: str, report: GateReport) -> None: ...
