"""What the incident core needs from the outside world, in its own terms."""

from __future__ import annotations

__all__ = ["IncidentChat", "IncidentStore", "IncidentTransaction", "Posted"]

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.incidents.model import Incident, TimelineEvent
from bot.types import UserId


@dataclass(frozen=True)
class Posted:
    """Where a message landed: the channel's id (even if it was named) and the message's."""

    channel_id: str
    message_id: str


class IncidentTransaction(Protocol):
    """One unit of work: everything written through it commits together or not at all."""

    async def next_number(self) -> int:
        """The next incident number; never handed out twice, even to concurrent callers."""

    async def get_for_update(self, number: int) -> Incident | None:
        """Read an incident and hold it until the transaction ends."""

    async def opened_since(self, actor: UserId, since: datetime) -> Sequence[Incident]:
        """Incidents `actor` opened at `since` or later, as committed (after `next_number`,
        which queues concurrent opens, that includes an open that just went before)."""

    async def insert(self, incident: Incident) -> None: ...

    async def update(self, incident: Incident) -> None: ...

    async def timeline(self, number: int) -> Sequence[TimelineEvent]:
        """Read on this transaction's own connection (SQLite has only one)."""

    async def append(self, event: TimelineEvent) -> None:
        """Add to the timeline. There is no way to change or remove an event."""


class IncidentStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[IncidentTransaction]: ...

    async def get(self, number: int) -> Incident | None: ...

    async def find_by_channel(self, channel_id: str) -> Incident | None: ...

    async def find_by_alert_group(self, alert_group_id: int) -> Incident | None: ...

    async def list(self, *, include_closed: bool, limit: int) -> Sequence[Incident]: ...

    async def timeline(self, number: int) -> Sequence[TimelineEvent]: ...


class IncidentChat(Protocol):
    """The chat front as the core sees it. Every method raises `ChatError` on failure."""

    async def create_channel(self, name: str) -> str:
        """Create a channel and return its id; `ChannelNameTaken` if the name exists."""

    async def invite(self, channel_id: str, users: Sequence[UserId]) -> None: ...

    async def set_topic(self, channel_id: str, topic: str) -> None: ...

    async def post_card(self, channel_id: str, incident: Incident, warning: str | None) -> str:
        """Post the incident card; return the message's id (Slack's ts). `warning` is
        what the card must say loudly (nobody will be paged), if anything."""

    async def update_card(
        self, channel_id: str, message_id: str, incident: Incident, warning: str | None
    ) -> None: ...

    async def post_announcement(self, channel: str, incident: Incident) -> Posted:
        """Announce in a channel given by id or name."""

    async def update_announcement(
        self, channel_id: str, message_id: str, incident: Incident
    ) -> None: ...

    async def post_event(self, channel_id: str, incident: Incident, event: TimelineEvent) -> None:
        """Tell the incident channel what just happened."""

    async def user_exists(self, user: UserId) -> bool: ...
