"""Notices: how alert groups reach Slack without a flood of messages.

Alert groups of one project and environment share one notice (one Slack message). A new
notice waits `group_wait` to gather what arrives together, then is posted; every later
change (a new alert group, a repeat, a resolve) is shown by updating the same message, at
most once per `update_interval`. When everything in it is resolved the notice closes.

Timers are data: a notice's `due_at` says when it must be sent. The sender claims due
notices with a lease (another process takes over if this one dies mid-send), sends after
the claim is committed, then records what Slack shows. A rate limit or an error moves
`due_at` later; the change stays pending until it is shown, so the final state is never
lost.
"""

from __future__ import annotations

__all__ = ["NoticeBoard"]

import logging
from datetime import datetime, timedelta

from bot import log_messages as msg
from bot.alerts.model import AlertGroup, GroupStatus, Notice, NoticeTiming, Outcome
from bot.alerts.ports import AlertChat, AlertStore, AlertTransaction
from bot.errors import ChatError, UserError
from bot.types import Clock

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
GONE = frozenset({"message_not_found", "cant_update_message"})
RETRY = timedelta(seconds=5)
BATCH = 20


class NoticeBoard:
    def __init__(
        self,
        store: AlertStore,
        chat: AlertChat,
        channel: str,
        timing: NoticeTiming,
        clock: Clock,
    ) -> None:
        self._store = store
        self._chat = chat
        self._channel = channel
        self._timing = timing
        self._clock = clock

    async def on_change(self, tx: AlertTransaction, group: AlertGroup, outcome: Outcome) -> None:
        """Called in the transaction that changed `group`."""
        now = self._clock()
        if outcome is Outcome.NEW:
            notice = await tx.open_notice(group.group_by)
            if notice is None:
                notice = await tx.create_notice(group.group_by, now, now + self._timing.group_wait)
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
                    f"<@{notice.acknowledged_by}> already acknowledged these alerts "
                    f"at {notice.acknowledged_at:%H:%M} UTC."
                )
            return await tx.acknowledge_notice(notice, by, now, self._next_send(notice, now))

    def _next_send(self, notice: Notice, now: datetime) -> datetime:
        if notice.sent_at is None:  # still gathering: keep the group_wait deadline
            return notice.due_at or now
        return max(now, notice.sent_at + self._timing.update_interval)

    async def send_due(self) -> int:
        """Send every notice that is due; return how many were shown."""
        sent = 0
        while True:
            now = self._clock()
            async with self._store.transaction() as tx:
                due = await tx.claim_due_notices(now, now + LEASE, BATCH)
            for notice in due:
                sent += await self._send(notice)
            if len(due) < BATCH:
                return sent

    async def _send(self, notice: Notice) -> int:
        groups = await self._store.groups_of(notice.id)
        try:
            if notice.message_ts is None or notice.channel_id is None:
                posted = await self._chat.post_notice(self._channel, notice, groups)
                channel_id, message_ts = posted.channel_id, posted.message_id
            else:
                channel_id, message_ts = notice.channel_id, notice.message_ts
                await self._chat.update_notice(channel_id, message_ts, notice, groups)
        except ChatError as exc:
            wait = timedelta(seconds=exc.retry_after) if exc.retry_after else RETRY
            log.warning(
                msg.ALERT_NOTICE_DEFERRED,
                extra={"notice": notice.id, "error": exc.code, "seconds": wait.seconds},
            )
            async with self._store.transaction() as tx:
                # A deleted message (GONE) is posted anew rather than updated forever.
                await tx.notice_failed(
                    notice, self._clock() + wait, forget_message=exc.code in GONE
                )
            return 0
        now = self._clock()
        settled = bool(groups) and all(g.status is GroupStatus.RESOLVED for g in groups)
        async with self._store.transaction() as tx:
            await tx.notice_sent(
                notice,
                channel_id,
                message_ts,
                now,
                again_at=now + self._timing.update_interval,
                close=settled,
            )
        return 1
