"""Notices: how alert groups reach Slack without a flood of messages.

Alert groups of one project and environment share one notice (one Slack message). A new
notice waits `group_wait` to gather what arrives together, then is posted; every later
change (a new alert group, a repeat, a resolve) is shown by updating the same message, at
most once per `update_interval`. When everything in it is resolved the notice closes. A
synthetic trace (`/lucia gate trace`) has a notice of its own, posted without waiting.

Timers are data: a notice's `due_at` says when it must be sent. The sender claims a due
notice with a short lease, renewed while it sends (another process takes over soon if this
one dies mid-send), sends after the claim is committed, then records what Slack shows. A
rate limit or an error moves `due_at` later; the change stays pending until it is shown,
so the final state is never lost.

Recording what Slack answered can fail (the database away for a moment, a deadlock): the
sender tries again with backoff while its lease holds, and remembers the message it posted
but couldn't record, so the next try updates that message instead of posting a second one.
"""

from __future__ import annotations

__all__ = ["NoticeBoard"]

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from bot import log_messages as msg
from bot.alerts.model import AlertGroup, GroupStatus, Notice, NoticeTiming, Outcome
from bot.alerts.ports import AlertChat, AlertStore, AlertTransaction
from bot.errors import ChatError, StoreUnavailable, UserError
from bot.text import Mention, Text
from bot.types import Clock

log = logging.getLogger(__name__)

# A claimed notice is the sender's for this long, renewed every quarter of it while it
# sends: a sender that dies leaves a stale notice for seconds, not a minute.
LEASE = timedelta(seconds=10)
GONE = frozenset({"message_not_found", "cant_update_message"})
RETRY = timedelta(seconds=5)
T = TypeVar("T")


class NoticeBoard:
    def __init__(
        self,
        store: AlertStore,
        chat: AlertChat,
        channel: str,
        timing: NoticeTiming,
        clock: Clock,
        *,
        lease: timedelta = LEASE,
    ) -> None:
        self._store = store
        self._chat = chat
        self._channel = channel
        self._timing = timing
        self._clock = clock
        self._lease = lease
        # Messages this process posted whose ts the database doesn't have yet (recording
        # it failed): notice id → (channel id, ts). The next send updates that message.
        self._unrecorded: dict[int, tuple[str, str]] = {}

    async def on_change(self, tx: AlertTransaction, group: AlertGroup, outcome: Outcome) -> None:
        """Called in the transaction that changed `group`."""
        now = self._clock()
        if outcome is Outcome.NEW:
            notice = await tx.open_notice(group.group_by)
            if notice is None:
                # A synthetic trace is alone in its message: nothing to gather, and the
                # trace measures how soon an alert reaches the channel.
                wait = timedelta(0) if group.synthetic else self._timing.group_wait
                notice = await tx.create_notice(group.group_by, now, now + wait)
            else:
                notice = await tx.changed_notice(notice, self._next_send(notice, now))
            await tx.attach(group, notice)
        elif group.notice_id is not None:
            notice = await tx.notice(group.notice_id)
            if notice is not None:
                await tx.changed_notice(notice, self._next_send(notice, now))

    async def acknowledge(self, notice_id: int, by: str) -> Notice:
        now = self._clock()
        async with self._store.transaction() as tx:
            notice = await tx.notice(notice_id)
            if notice is None:
                raise UserError("That alert message is gone from the database.")
            if notice.acknowledged_by is not None:
                raise UserError(
                    Text(
                        Mention(notice.acknowledged_by),
                        " already acknowledged these alerts "
                        f"at {notice.acknowledged_at:%H:%M} UTC.",
                    )
                )
            return await tx.acknowledge_notice(notice, by, now, self._next_send(notice, now))

    def _next_send(self, notice: Notice, now: datetime) -> datetime:
        if notice.sent_at is None:  # still gathering: keep the group_wait deadline
            return notice.due_at or now
        return max(now, notice.sent_at + self._timing.update_interval)

    async def send_due(self) -> int:
        """Send every notice that is due, one claimed at a time; return how many were shown."""
        sent = 0
        while True:
            now = self._clock()
            async with self._store.transaction() as tx:
                due = await tx.claim_due_notices(now, now + self._lease, 1)
            if not due:
                return sent
            held = _Held(due[0].id, now + self._lease)
            renewing = asyncio.create_task(self._renew(held), name=f"notice-lease-{held.id}")
            try:
                sent += await self._send(due[0], held)
            finally:
                renewing.cancel()
                await asyncio.wait([renewing])

    async def _send(self, notice: Notice, held: _Held) -> int:
        groups = await self._store.groups_of(notice.id)
        if notice.message_ts is not None and notice.channel_id is not None:
            self._unrecorded.pop(notice.id, None)  # the database knows its message
            shown: tuple[str, str] | None = (notice.channel_id, notice.message_ts)
        else:
            shown = self._unrecorded.get(notice.id)  # posted here, never recorded
        try:
            if shown is None:
                posted = await self._chat.post_notice(self._channel, notice, groups)
                channel_id, message_ts = posted.channel_id, posted.message_id
                self._unrecorded[notice.id] = (channel_id, message_ts)
            else:
                channel_id, message_ts = shown
                await self._chat.update_notice(channel_id, message_ts, notice, groups)
        except ChatError as exc:
            wait = timedelta(seconds=exc.retry_after) if exc.retry_after else RETRY
            log.warning(
                msg.ALERT_NOTICE_DEFERRED,
                extra={"notice": notice.id, "error": exc.code, "seconds": wait.seconds},
            )
            gone = exc.code in GONE  # a deleted message is posted anew, not updated forever
            if gone:
                self._unrecorded.pop(notice.id, None)
            retry_at = self._clock() + wait

            async def failed(tx: AlertTransaction) -> bool:
                return await tx.notice_failed(
                    notice, retry_at, held_until=held.until, forget_message=gone
                )

            await self._record(held, failed)
            return 0
        now = self._clock()
        settled = bool(groups) and all(g.status is GroupStatus.RESOLVED for g in groups)

        async def sent(tx: AlertTransaction) -> bool:
            return await tx.notice_sent(
                notice,
                channel_id,
                message_ts,
                now,
                again_at=now + self._timing.update_interval,
                close=settled,
                held_until=held.until,
            )

        if await self._record(held, sent):
            self._unrecorded.pop(notice.id, None)
        return 1

    async def _record(self, held: _Held, write: Callable[[AlertTransaction], Awaitable[T]]) -> T:
        """What Slack answered, into the database: tried again with backoff while the lease
        holds (a blip, a deadlock). Given up, the message stays remembered here."""
        wait = 0.1
        while True:
            try:
                async with held.lock, self._store.transaction() as tx:
                    return await write(tx)
            except StoreUnavailable as exc:
                if self._clock() + timedelta(seconds=wait) >= held.until:
                    raise
                log.warning(
                    msg.ALERT_NOTICE_NOT_RECORDED, extra={"notice": held.id, "error": str(exc)}
                )
            await asyncio.sleep(wait)
            wait = min(wait * 2, 1.0)

    async def _renew(self, held: _Held) -> None:
        """Keep the lease while this process sends the notice (every quarter of it)."""
        while True:
            await asyncio.sleep(max(self._lease.total_seconds() / 4, 0.05))
            async with held.lock:
                until = self._clock() + self._lease
                try:
                    async with self._store.transaction() as tx:
                        renewed = await tx.renew_notice(held.id, held.until, until)
                except StoreUnavailable as exc:  # tried again at the next beat
                    log.warning(
                        msg.ALERT_NOTICE_LEASE_NOT_RENEWED,
                        extra={"notice": held.id, "error": str(exc)},
                    )
                    continue
                if not renewed:
                    return  # recorded, or taken over by another sender
                held.until = until


class _Held:
    """This process's lease on a notice it is sending: `until`, the lease's stored end,
    is the token renewals and results name; `lock` keeps them apart."""

    def __init__(self, notice_id: int, until: datetime) -> None:
        self.id = notice_id
        self.until = until
        self.lock = asyncio.Lock()
