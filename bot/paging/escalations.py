"""The escalation rows, run by the tick: stops, starts, restarts and due steps.

Each part claims its rows (`FOR UPDATE SKIP LOCKED`), so in any number of processes every
step fires once. For each row it reads what the step needs, takes the step's result from
`escalation_steps.py` and stores it in the same transaction; the events are shown after
commit. An acknowledgement needs no message to reach paging: a step of an acknowledged
incident is never claimed, and the next tick records the stop.
"""

from __future__ import annotations

__all__ = ["Escalations"]

from collections.abc import Callable
from datetime import datetime

from bot.config import LuciaConfig
from bot.incidents.model import TimelineEvent
from bot.paging import escalation_steps as steps
from bot.paging.escalation_steps import Roster, StepResult
from bot.paging.model import Escalation
from bot.paging.ports import Announce, Contact, PagingStore, PagingTransaction
from bot.types import Clock

BATCH = 20


class Escalations:
    def __init__(
        self,
        store: PagingStore,
        config: LuciaConfig,
        clock: Clock,
        announce: Announce,
        wake: Callable[[], None],  # the page sender: pages were written
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._announce = announce
        self._wake = wake

    async def run(self) -> None:
        """One tick: stops, starts, restarts, then due steps."""
        await self.stop_answered()
        await self.start_new()
        await self.revive()
        await self.fire_due()

    async def start_new(self) -> int:
        """Copy the chain onto each incident paging hasn't seen; the first step is due now."""
        shown: list[TimelineEvent] = []
        async with self._store.transaction() as tx:
            found = await tx.incidents_to_start(self._clock(), BATCH)
            for unstarted in found:
                policy = self._config.escalation.get(unstarted.incident.severity)
                result = steps.start(unstarted, policy, self._clock())
                if not await tx.start(result.escalation):
                    continue  # another process started it
                if result.event is not None:
                    await tx.append(result.event)
                    shown.append(result.event)
        await self._show(shown)
        return len(found)

    async def revive(self) -> int:
        """Chains stopped before a reopen, or raised to a severity that pages, start again."""
        shown: list[TimelineEvent] = []
        async with self._store.transaction() as tx:
            found = await tx.revivable(BATCH)
            for escalation, incident in found:
                policy = self._config.escalation.get(incident.severity)
                now = self._clock()
                result = steps.restart(escalation, incident, policy, now)
                shown += await _apply(tx, result, now)
        await self._show(shown)
        return len(found)

    async def fire_due(self) -> int:
        """Fire every step that is due: its pages are written with it, in one transaction."""
        shown: list[TimelineEvent] = []
        async with self._store.transaction() as tx:
            due = await tx.claim_due(self._clock(), BATCH)
            for escalation, incident in due:
                now = self._clock()
                throttle = self._config.paging.throttle
                roster = await _roster(tx, escalation, since=now - throttle)
                result = steps.fire(escalation, incident, roster, throttle, now)
                shown += await _apply(tx, result, now)
        await self._show(shown)
        if due:
            self._wake()
        return len(due)

    async def stop_answered(self) -> int:
        """Record the stop of every escalation whose incident was acknowledged or resolved."""
        shown: list[TimelineEvent] = []
        async with self._store.transaction() as tx:
            answered = await tx.answered(BATCH)
            for escalation, incident in answered:
                now = self._clock()
                shown += await _apply(tx, steps.stop(escalation, incident, now), now)
        await self._show(shown)
        return len(answered)

    async def _show(self, events: list[TimelineEvent]) -> None:
        for event in events:
            await self._announce(event)


async def _roster(tx: PagingTransaction, escalation: Escalation, since: datetime) -> Roster:
    """Who holds each role of the due step, and when each of them was last paged."""
    holders: dict[str, Contact | None] = {}
    for role in steps.due_roles(escalation):
        entry = await tx.owner(role)
        holders[role] = entry.contact if entry else None
    last_paged: dict[str, datetime] = {}
    for contact in holders.values():
        if contact is not None and contact.person not in last_paged:
            last = await tx.last_paged(contact.person, since)
            if last is not None:
                last_paged[contact.person] = last
    return Roster(holders, last_paged)


async def _apply(tx: PagingTransaction, result: StepResult, now: datetime) -> list[TimelineEvent]:
    """Store a step's result; the event to show after commit, if it has one."""
    if result.cancel_pages:
        await tx.cancel_pages(result.escalation.incident_number, now)
    for page in result.pages:
        await tx.add_page(page)
    await tx.advance(result.escalation)
    if result.event is None:
        return []
    await tx.append(result.event)
    return [result.event]
