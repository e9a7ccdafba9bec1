"""What the alert core needs from storage."""

from __future__ import annotations

__all__ = ["AlertStore", "AlertTransaction"]

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from bot.alerts.model import AlertGroup, AlertSignal, Delivery


class AlertTransaction(Protocol):
    async def claim_deliveries(self, limit: int) -> Sequence[Delivery]:
        """Unprocessed deliveries, oldest first, held so no other worker takes them."""

    async def finish_delivery(self, delivery_id: int, outcome: str, error: str = "") -> None: ...

    async def open_group(self, key: str) -> AlertGroup | None:
        """The firing group for `key`, held until the transaction ends."""

    async def insert_group(self, signal: AlertSignal) -> AlertGroup: ...

    async def count_repeat(self, group: AlertGroup, at: datetime) -> AlertGroup: ...

    async def resolve_group(self, group: AlertGroup, at: datetime) -> AlertGroup: ...


class AlertStore(Protocol):
    async def keep(self, source: str, kind: str, body: bytes, received_at: datetime) -> int:
        """Store a delivery durably (committed when this returns); its id."""

    def transaction(self) -> AbstractAsyncContextManager[AlertTransaction]: ...

    async def firing(self, limit: int) -> Sequence[AlertGroup]: ...

    async def pending_count(self) -> int: ...
