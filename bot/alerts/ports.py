"""What the alert core needs from outside: storage, chat, repeat counts and a reader of
Sentry's deliveries."""

from __future__ import annotations

__all__ = [
    "AlertChat",
    "AlertStore",
    "AlertTransaction",
    "Read",
    "RepeatCounter",
    "SignalReader",
]

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.alerts.model import AlertGroup, AlertSignal, Delivery, Fold, Notice, Silence
from bot.incidents.ports import Posted


class AlertTransaction(Protocol):
    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """Undo only what is done inside on error: `StoreConflict` for a uniqueness race,
        `StoreUnavailable` for a lost connection, the error itself otherwise."""

    async def claim_deliveries(self, limit: int) -> Sequence[Delivery]:
        """Unprocessed deliveries, oldest first, held so no other worker takes them."""

    async def finish_delivery(self, delivery_id: int, outcome: str, error: str = "") -> None: ...

    async def apply_fold(self, fold_id: str) -> bool:
        """Record the fold as applied; False if it was already (its counts are in)."""

    async def open_group(self, key: str) -> AlertGroup | None:
        """The firing group for `key`, held until the transaction ends."""

    async def latest_group(self, key: str) -> AlertGroup | None:
        """The newest group of `key`, firing or not, held until the transaction ends."""

    async def insert_group(self, signal: AlertSignal) -> AlertGroup: ...

    async def count_repeat(self, group: AlertGroup, signal: AlertSignal) -> AlertGroup:
        """One more; the level rises to the most severe seen, empty details are filled."""

    async def fire_again(self, previous: AlertGroup, count: int, at: datetime) -> AlertGroup:
        """A new firing group like a resolved one, for repeats counted after its resolve."""

    async def resolve_group(self, group: AlertGroup, at: datetime) -> AlertGroup: ...

    async def add_repeats(self, group: AlertGroup, repeats: int, at: datetime) -> AlertGroup: ...

    async def active_silences(self, now: datetime) -> Sequence[Silence]: ...

    async def mark_route(self, group: AlertGroup, severity: str, page: Sequence[str]) -> None:
        """This group must open an incident: a pending route, kept until it is done."""

    async def claim_routes(
        self, now: datetime, stale_before: datetime, limit: int
    ) -> Sequence[AlertGroup]:
        """Pending routes, and ones whose opener stopped before `stale_before`; leased."""

    async def route_done(self, group: AlertGroup, incident_number: int) -> None: ...

    async def noted(self, group: AlertGroup, at: datetime) -> None:
        """The incident's timeline was told about this group at `at`."""

    async def open_notice(self, group_by: str) -> Notice | None:
        """The open notice of a project/environment, held until the transaction ends."""

    async def notice(self, notice_id: int) -> Notice | None:
        """A notice, held until the transaction ends."""

    async def create_notice(self, group_by: str, at: datetime, due_at: datetime) -> Notice: ...

    async def attach(self, group: AlertGroup, notice: Notice) -> None: ...

    async def changed_notice(self, notice: Notice, due_at: datetime) -> Notice:
        """One more change to show: bump the version; send by `due_at` at the latest."""

    async def claim_due_notices(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[Notice]:
        """Notices due by `now`, leased until `lease_until` so no other worker sends them
        (`lease_until` is the lease's token: renewals and results name it)."""

    async def renew_notice(self, notice_id: int, held_until: datetime, until: datetime) -> bool:
        """Extend the caller's lease to `until`; False if it no longer holds it."""

    async def notice_sent(
        self,
        notice: Notice,
        channel_id: str,
        message_ts: str,
        at: datetime,
        again_at: datetime,
        close: bool,
        *,
        held_until: datetime,
    ) -> bool:
        """Slack shows `notice.version`; if it changed meanwhile, send again at `again_at`.
        False (nothing written) if the caller's lease was taken over by another sender."""

    async def notice_failed(
        self,
        notice: Notice,
        retry_at: datetime,
        *,
        held_until: datetime,
        forget_message: bool = False,
    ) -> bool:
        """Send again at `retry_at`; as a new message if the old one is gone. False if the
        caller's lease was taken over."""

    async def acknowledge_notice(
        self, notice: Notice, by: str, at: datetime, due_at: datetime
    ) -> Notice: ...


class AlertStore(Protocol):
    async def keep(self, source: str, kind: str, body: bytes, received_at: datetime) -> int:
        """Store a delivery durably (committed when this returns); its id. A caller that
        stops waiting doesn't stop the commit: its delivery may still be kept."""

    async def close(self) -> None:
        """Wait for the commits under way."""

    def transaction(self) -> AbstractAsyncContextManager[AlertTransaction]: ...

    async def firing(self, limit: int) -> Sequence[AlertGroup]: ...

    async def pending_count(self) -> int: ...

    async def groups_of(self, notice_id: int) -> Sequence[AlertGroup]: ...

    async def group(self, group_id: int) -> AlertGroup | None: ...

    async def active_silences(self, now: datetime) -> Sequence[Silence]: ...

    async def add_silence(
        self,
        group_id: int | None,
        project: str | None,
        reason: str,
        by: str,
        at: datetime,
        ends_at: datetime,
    ) -> Silence: ...

    async def lift_silence(self, silence_id: int, by: str, at: datetime) -> Silence | None:
        """Lift a silence that is still active; None if there is none."""


class AlertChat(Protocol):
    """Where notices are shown. Raises `ChatError` (with `retry_after` on rate limits)."""

    async def post_notice(
        self, channel: str, notice: Notice, groups: Sequence[AlertGroup]
    ) -> Posted: ...

    async def update_notice(
        self, channel_id: str, message_ts: str, notice: Notice, groups: Sequence[AlertGroup]
    ) -> None: ...


class RepeatCounter(Protocol):
    """Repeats of an alert that is known to be firing, counted in one round trip.

    Only a repeat of a key the reader has marked firing is counted here; anything else
    goes through the inbox. Counts are folded into the database later. Every method
    raises `DedupeUnavailable` when the store can't be reached (callers then use the
    inbox: slower, but nothing is lost).
    """

    async def count(self, key: str, at: datetime) -> bool:
        """True if `key` is marked firing and this repeat was counted."""

    async def mark_firing(self, keys: Sequence[str]) -> None: ...

    async def forget(self, keys: Sequence[str]) -> None: ...

    async def take(self) -> Fold:
        """Counts gathered since the last fold, held until `folded`; taken again (the same
        fold, same id) by the next `take` if this one never reaches `folded`."""

    async def folded(self) -> None:
        """The counts from `take` are in the database."""

    async def release(self) -> None:
        """The fold failed: keep its counts for the next `take`, and let it happen now."""


@dataclass(frozen=True)
class Read:
    """What a reader made of a delivery: a signal, or why there is none."""

    signal: AlertSignal | None
    note: str = ""  # e.g. "installation.created: nothing to alert on"


SignalReader = Callable[[Delivery], Read]
