"""What the status page needs from outside, as the core sees it: its storage, and the
cache in front of it (Cloudflare) to purge on every publish. The adapters:
`bot/store/status_store.py` and `bot/cloudflare/`."""

from __future__ import annotations

__all__ = ["CachePurge", "PageData", "StatusStore"]

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.incidents.model import TimelineEvent
from bot.status.model import (
    ComponentChange,
    ComponentState,
    Draft,
    Maintenance,
    Phase,
    PublicIncident,
)
from bot.types import JSONValue, UserId


@dataclass(frozen=True)
class PageData:
    """Everything the page shows, read in one go."""

    changes: Mapping[str, Sequence[ComponentChange]]  # per component, oldest first (90 days+)
    incidents: Sequence[PublicIncident]  # the last 90 days, newest first, updates included
    maintenances: Sequence[Maintenance]  # not cancelled, ending within the window or later
    updated_at: datetime | None  # the newest thing published


class StatusStore(Protocol):
    async def watch(self, components: Sequence[str], at: datetime) -> None:
        """Components with no recorded state start as operational now (uptime counts from
        here, not from before the page knew them)."""
        ...

    async def page(self, since: datetime) -> PageData: ...

    async def open_incident_for(self, number: int) -> PublicIncident | None:
        """The unresolved public incident published from internal incident `number`."""
        ...

    async def add_draft(
        self,
        action: str,
        payload: Mapping[str, JSONValue],
        number: int | None,
        by: UserId,
        at: datetime,
    ) -> Draft: ...

    async def draft(self, draft_id: int) -> Draft | None:
        """A draft not decided yet; None when it was, or doesn't exist."""
        ...

    async def take_draft(
        self, draft_id: int, outcome: str, by: UserId, at: datetime
    ) -> Draft | None:
        """Marks a shown draft published or cancelled, once: None when it was decided
        already (a double click) or doesn't exist."""
        ...

    async def publish(
        self,
        *,
        incident_id: int | None,  # None: a new public incident
        name: str,
        phase: Phase,
        body: str,
        components: Mapping[str, ComponentState],
        number: int | None,
        by: UserId,
        at: datetime,
        event: TimelineEvent | None,
    ) -> PublicIncident:
        """One update, its component states and the internal timeline's record, in one
        transaction."""
        ...

    async def add_maintenance(self, maintenance: Maintenance) -> Maintenance: ...


class CachePurge(Protocol):
    async def purge(self, urls: Sequence[str]) -> None:
        """Raises `CachePurgeFailed` with a reason for people."""
        ...
