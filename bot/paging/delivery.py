"""Pages delivered: each due page claimed on its own, leased while its sends run, sent
through every channel that reaches the person, each channel recorded as attempted before
it is sent and as answered as soon as it is known, then one timeline event for them all.

`send_pages` runs in any number of processes: a page is claimed by one sender at a time
(`FOR UPDATE SKIP LOCKED`), and a page whose sender stopped is taken over when its lease
runs out, never sending a channel twice.
"""

from __future__ import annotations

__all__ = ["CHANNEL_NAMES", "PageSender", "channel_name"]

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from bot import log_messages as msg
from bot.config import PagingConfig
from bot.errors import DeliveryFailed, StoreUnavailable
from bot.incidents.model import EventKind, TimelineEvent
from bot.paging.message import compose
from bot.paging.model import Delivery, DeliveryStatus, Page, PageStatus
from bot.paging.people import People
from bot.paging.ports import Announce, Notifier, PagingStore, PagingTransaction
from bot.paging.timeline import lucia_event, target_ref
from bot.types import Clock
from bot.vocabulary import SYSTEM_ACTOR

T = TypeVar("T")

log = logging.getLogger(__name__)

CHANNEL_NAMES = {
    "slack_dm": "Slack DM",
    "slack_mention": "mention in the channel",
    "email": "e-mail",
    "push": "push",
}


def channel_name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


class PageSender:
    def __init__(
        self,
        store: PagingStore,
        notifiers: Sequence[Notifier],
        people: People,
        config: PagingConfig,
        clock: Clock,
        announce: Announce,
    ) -> None:
        self._store = store
        self._notifiers = notifiers
        self._people = people
        self._config = config
        self._clock = clock
        self._announce = announce

    async def send_pages(self) -> int:
        """Every due page, one claimed at a time: its lease covers only its own sends, and
        is renewed while they run."""
        sent = 0
        while True:
            now = self._clock()
            lease = self._config.send_lease
            async with self._store.transaction() as tx:
                claimed = await tx.claim_pages(now, now + lease, 1)
            if not claimed:
                return sent
            held = _Held(claimed[0].id, now + lease)
            renewing = asyncio.create_task(self._renew(held), name=f"page-lease-{held.page_id}")
            try:
                await self._send(claimed[0], held)
            finally:
                renewing.cancel()
                await asyncio.wait([renewing])
            sent += 1

    async def _renew(self, held: _Held) -> None:
        """Keep the lease while this process sends the page (every quarter of it)."""
        lease = self._config.send_lease
        while not held.lost:
            await asyncio.sleep(max(lease.total_seconds() / 4, 0.05))
            async with held.lock:
                until = self._clock() + lease
                try:
                    async with self._store.transaction() as tx:
                        renewed = await tx.renew_page(held.page_id, held.until, until)
                except StoreUnavailable as exc:  # tried again at the next beat
                    log.warning(
                        msg.PAGE_LEASE_NOT_RENEWED, extra={"page": held.page_id, "error": str(exc)}
                    )
                    continue
                if renewed:
                    held.until = until
                else:
                    held.lost = True
                    log.warning(msg.PAGE_LEASE_LOST, extra={"page": held.page_id})

    async def _stored(self, held: _Held, write: Callable[[PagingTransaction], Awaitable[T]]) -> T:
        """One write, tried again with backoff while the lease can't have run out (after
        that the page is another sender's to finish, and this one gives up)."""
        wait = 0.1
        while True:
            try:
                async with self._store.transaction() as tx:
                    return await write(tx)
            except StoreUnavailable as exc:
                if held.lost or self._clock() + timedelta(seconds=wait) >= held.until:
                    raise
                log.warning(
                    msg.PAGE_RESULT_NOT_STORED, extra={"page": held.page_id, "error": str(exc)}
                )
            await asyncio.sleep(wait)
            wait = min(wait * 2, 1.0)

    async def _send(self, page: Page, held: _Held) -> None:
        async with self._store.transaction() as tx:
            done = await tx.delivered(page.id)
            incident = await tx.incident(page.incident_number) if page.incident_number else None
        # A page taken over from a sender that stopped: what it attempted and never
        # answered may have reached the person. It is unknown, and never sent again.
        for channel, delivery in done.items():
            if delivery.status is DeliveryStatus.ATTEMPTING:
                why = f"unknown: the bot stopped while sending by {_by(channel)}"
                if await self._stored(held, _mark_unknown(page.id, channel, why)):
                    log.warning(
                        msg.PAGE_ATTEMPT_UNANSWERED, extra={"page": page.id, "channel": channel}
                    )
                    done[channel] = Delivery(DeliveryStatus.UNKNOWN, why)
        # An escalation page left mid-send whose incident was answered since: nothing more.
        answered = (
            page.status is PageStatus.SENDING
            and page.created_by == SYSTEM_ACTOR
            and incident is not None
            and (incident.acknowledged_at is not None or incident.resolved_at is not None)
        )
        message = await compose(page, incident, self._people)
        results = dict(done)  # a resumed page: what an earlier sender already recorded
        for notifier in self._notifiers:
            if answered or held.lost:
                break  # the sender that took it over sends the rest
            if notifier.channel in done or not notifier.reaches(page.contact, message):
                continue
            # Attempted before it is sent: a sender that takes the page over after this
            # process stops won't send it again.
            if not await self._stored(held, _attempt(page.id, notifier.channel, self._clock())):
                continue  # another sender attempted it
            try:
                await notifier.send(page.contact, message)
                ok, detail = True, "sent"
            except DeliveryFailed as exc:
                ok, detail = False, str(exc)
            except Exception as exc:  # a bug in one channel must not stop the others
                log.exception(msg.PAGE_DELIVERY_FAILED, extra={"page": page.id})
                ok, detail = False, f"{type(exc).__name__} (a bug: see the bot's log)"
            if not ok:
                log.warning(
                    msg.PAGE_DELIVERY_FAILED,
                    extra={"page": page.id, "channel": notifier.channel, "error": detail},
                )
            results[notifier.channel] = Delivery(
                DeliveryStatus.SENT if ok else DeliveryStatus.FAILED, detail
            )
            # Each result as soon as it is known.
            await self._stored(held, _record(page.id, notifier.channel, ok, detail, self._clock()))
        if any(d.ok for d in results.values()):
            status = PageStatus.SENT
        elif any(d.status is DeliveryStatus.UNKNOWN for d in results.values()):
            status = PageStatus.UNKNOWN
        elif answered and not results:
            status = PageStatus.CANCELLED
        else:
            status = PageStatus.FAILED
        order = {n.channel: i for i, n in enumerate(self._notifiers)}
        shown = sorted(results.items(), key=lambda item: order.get(item[0], len(order)))
        summary = ", ".join(_result(c, d) for c, d in shown)
        who = f"{message.person.name} ({target_ref(page.target)})"
        text = f"Paged {who}: {summary or 'no way to reach them'}"
        if answered:
            text = f"Paged {who}: {summary or 'nothing sent'} (the rest not sent: answered)"
        event = None
        if page.incident_number is not None:
            event = lucia_event(
                page.incident_number,
                self._clock(),
                EventKind.PAGE,
                text,
                {"page": page.id, "status": status.value},
            )
        async with held.lock:  # the renewal doesn't move the lease under the finish
            if held.lost:
                return
            finished = await self._stored(
                held, _finish(page.id, status, self._clock(), held.until, event)
            )
        if not finished:  # taken over meanwhile: the other sender tells it
            log.warning(msg.PAGE_LEASE_LOST, extra={"page": page.id})
            return
        log.info(msg.PAGE_SENT, extra={"page": page.id, "status": status.value})
        if event is not None:
            await self._announce(event)


class _Held:
    """This process's lease on a page it is sending: `until` is the lease's stored end,
    the token every renewal and the finish check; `lock` keeps them apart."""

    def __init__(self, page_id: int, until: datetime) -> None:
        self.page_id = page_id
        self.until = until
        self.lost = False  # finished elsewhere, or taken over: stop sending
        self.lock = asyncio.Lock()


def _attempt(
    page_id: int, channel: str, at: datetime
) -> Callable[[PagingTransaction], Awaitable[bool]]:
    async def write(tx: PagingTransaction) -> bool:
        return await tx.attempt(page_id, channel, at)

    return write


def _mark_unknown(
    page_id: int, channel: str, detail: str
) -> Callable[[PagingTransaction], Awaitable[bool]]:
    async def write(tx: PagingTransaction) -> bool:
        return await tx.mark_unknown(page_id, channel, detail)

    return write


def _record(
    page_id: int, channel: str, ok: bool, detail: str, at: datetime
) -> Callable[[PagingTransaction], Awaitable[None]]:
    async def write(tx: PagingTransaction) -> None:
        await tx.record_delivery(page_id, channel, ok, detail, at)

    return write


def _finish(
    page_id: int,
    status: PageStatus,
    at: datetime,
    held_until: datetime,
    event: TimelineEvent | None,
) -> Callable[[PagingTransaction], Awaitable[bool]]:
    """The page's status and its timeline event, together, only by the lease's holder."""

    async def write(tx: PagingTransaction) -> bool:
        if not await tx.finish_page(page_id, status, at, held_until):
            return False
        if event is not None:
            await tx.append(event)
        return True

    return write


def _by(channel: str) -> str:
    return "a mention in the channel" if channel == "slack_mention" else channel_name(channel)


def _result(channel: str, delivery: Delivery) -> str:
    """`e-mail ✓`, `push ✗ (ntfy 429 …)`, `e-mail ? (unknown: the bot stopped …)`."""
    if delivery.ok:
        return f"{channel_name(channel)} ✓"
    mark = "?" if delivery.status is DeliveryStatus.UNKNOWN else "✗"
    return f"{channel_name(channel)} {mark} ({delivery.detail})"
