"""Alert intake: keep every delivery first, then read it into alert groups.

A delivery is committed to the inbox before the source gets its 2xx, so a process killed
right after answering loses nothing: `drain` picks it up after the restart. Reading a
delivery and updating its group happen in one transaction, so a delivery counts once.
"""

from __future__ import annotations

__all__ = ["AlertService"]

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar, get_args

from bot import log_messages as msg
from bot.alerts.commands import (
    AcknowledgeNotice,
    AlertCommand,
    LiftSilence,
    ListAlerts,
    OpenIncidentFromNotice,
    SilenceAlerts,
    SilenceNotice,
)
from bot.alerts.model import (
    AlertGroup,
    AlertSignal,
    Delivery,
    GroupStatus,
    Outcome,
    Silence,
    restored_signal,
    trace_key,
    trace_signal,
)
from bot.alerts.notices import NoticeBoard
from bot.alerts.ports import AlertStore, AlertTransaction, RepeatCounter, SignalReader
from bot.alerts.replies import AlertListing, AlertReply
from bot.alerts.routing import IncidentRouter, route_for
from bot.config import AlertRoute
from bot.durations import short_duration
from bot.errors import (
    DedupeUnavailable,
    StoreConflict,
    StoreUnavailable,
    UnreadableDelivery,
    UserError,
)
from bot.incidents.replies import Done, Noted
from bot.incidents.service import in_channel
from bot.text import Text
from bot.types import Clock
from bot.vocabulary import Invocation

log = logging.getLogger(__name__)

BATCH = 100
COUNTER_BACKOFF = timedelta(seconds=5)
FOLD_WITHIN = 5.0  # seconds; RedisRepeatCounter's fold lock lasts twice that
LIST_LIMIT = 25


class AlertService:
    handles: ClassVar[tuple[type, ...]] = get_args(AlertCommand)

    def __init__(
        self,
        store: AlertStore,
        read: SignalReader,
        clock: Clock,
        board: NoticeBoard | None = None,
        routes: Sequence[AlertRoute] = (),
        router: IncidentRouter | None = None,
        counter: RepeatCounter | None = None,
    ) -> None:
        self._router = router  # opens incidents for the alert message's button
        self._counter = counter  # None: every delivery goes through the inbox
        self._counter_back_at = datetime.min.replace(tzinfo=UTC)
        # The last fold stopped on a failure (its counts are still in Redis, or the lock
        # it took is) or finished one that had: the runtime folds again soon.
        self.fold_unfinished = False
        self._store = store
        self._read = read
        self._clock = clock
        self.board = board  # None: no alerts channel, alert groups are only stored
        self._routes = routes

    async def keep(
        self, source: str, kind: str, body: bytes, repeat_key: str | None = None
    ) -> int | None:
        """Keep a delivery durably; None when it was counted as a repeat instead.

        `repeat_key` is the group key of a firing-only delivery: if the reader already
        has that group firing, the repeat is counted in one Redis round trip."""
        now = self._clock()
        use_counter = self._counter is not None and now >= self._counter_back_at
        if repeat_key is not None and use_counter:
            assert self._counter is not None
            try:
                if await self._counter.count(repeat_key, now):
                    return None
            except DedupeUnavailable as exc:
                # Don't make every webhook wait on a sick Redis: the inbox for a while.
                self._counter_back_at = now + COUNTER_BACKOFF
                log.warning(msg.REPEAT_COUNTER_UNAVAILABLE, extra={"error": str(exc)})
        return await self._store.keep(source, kind, body, now)

    async def close(self) -> None:
        await self._store.close()

    async def fold_repeats(self) -> list[tuple[AlertGroup, Outcome]]:
        """Move repeats counted in Redis onto their alert groups; return the groups changed."""
        if self._counter is None:
            return []
        self.fold_unfinished = True  # until this fold has put every count it took
        try:
            fold = await self._counter.take()
        except DedupeUnavailable as exc:
            log.warning(msg.REPEAT_COUNTER_UNAVAILABLE, extra={"error": str(exc)})
            return []
        if not fold.counts:
            # A lock held elsewhere may be a killed folder's: look again once it may be free.
            self.fold_unfinished = fold.locked_elsewhere
            return []
        changed: list[tuple[AlertGroup, Outcome]] = []
        stale: list[str] = []  # markers to drop: their repeats go through the inbox again
        try:
            # Within the counter's lock time, so no second folder takes the same counts.
            async with asyncio.timeout(FOLD_WITHIN), self._store.transaction() as tx:
                # Taken again after a fold that committed but couldn't clear Redis: skip it.
                fresh = await tx.apply_fold(fold.id)
                silences = await tx.active_silences(self._clock()) if fresh else []
                for key, (repeats, seen) in fold.counts.items() if fresh else ():
                    group = await tx.open_group(key)
                    outcome = Outcome.REPEAT
                    if group is None:
                        # Resolved since it was marked: this is the alert firing again.
                        previous = await tx.latest_group(key)
                        if previous is None:
                            group = await self._restore_group(tx, key, repeats, seen)
                            stale.append(key)  # its next delivery brings the details
                        else:
                            group = await tx.fire_again(previous, repeats, seen)
                        outcome = Outcome.NEW
                    else:
                        group = await tx.add_repeats(group, repeats, seen)
                    changed.append((group, outcome))
                    if self.board is not None and not any(s.covers(group) for s in silences):
                        await self.board.on_change(tx, group, outcome)
        except BaseException:
            with contextlib.suppress(DedupeUnavailable):  # the next tick folds them again
                await self._counter.release()
            raise
        try:
            await self._counter.folded()
            await self._counter.forget(stale)
            self.fold_unfinished = fold.more_waiting
        except DedupeUnavailable as exc:  # folded again later: over-counting beats losing
            log.warning(msg.REPEAT_COUNTER_UNAVAILABLE, extra={"error": str(exc)})
        return changed

    async def _restore_group(
        self, tx: AlertTransaction, key: str, repeats: int, seen: datetime
    ) -> AlertGroup:
        """Redis counted repeats of a key the database has no group for: a database
        restored or recreated while Redis kept its marker, or a marker that outlived its
        group. Each was answered "counted", so the alert is real: its group is made now,
        marked restored, and the next delivery of the key goes through the inbox and
        fills in what the alert is."""
        log.warning(msg.REPEATS_WITHOUT_GROUP, extra={"key": key, "count": repeats})
        group = await tx.insert_group(restored_signal(key, seen))
        return await tx.add_repeats(group, repeats - 1, seen) if repeats > 1 else group

    async def drain(self) -> list[tuple[AlertGroup, Outcome]]:
        """Read every waiting delivery; return the groups that changed, in order."""
        changed: list[tuple[AlertGroup, Outcome]] = []
        while True:
            batch: list[tuple[AlertGroup, Outcome]] = []
            async with self._store.transaction() as tx:
                deliveries = await tx.claim_deliveries(BATCH)
                silences = await tx.active_silences(self._clock()) if deliveries else []
                for delivery in deliveries:
                    result = await self._apply_safely(tx, delivery, silences)
                    if result is not None:
                        batch.append(result)
            # After each batch, not at the end: during a flood the inbox only shrinks once
            # repeats of the groups just made can skip it.
            await self._tell_counter(batch)
            changed += batch
            if len(deliveries) < BATCH:
                return changed

    async def _tell_counter(self, changed: list[tuple[AlertGroup, Outcome]]) -> None:
        """Mark firing groups so their repeats skip the inbox; forget resolved ones."""
        if self._counter is None or not changed:
            return
        # A synthetic trace's repeats never skip the inbox (`repeat_key`): no marker.
        firing = [
            g.key for g, o in changed if o in (Outcome.NEW, Outcome.REPEAT) and not g.synthetic
        ]
        resolved = [g.key for g, o in changed if o is Outcome.RESOLVED]
        try:
            await self._counter.forget(resolved)
            await self._counter.mark_firing([k for k in firing if k not in resolved])
        except DedupeUnavailable as exc:
            log.warning(msg.REPEAT_COUNTER_UNAVAILABLE, extra={"error": str(exc)})

    async def _apply_safely(
        self, tx: AlertTransaction, delivery: Delivery, silences: Sequence[Silence]
    ) -> tuple[AlertGroup, Outcome] | None:
        """One delivery in its own savepoint: a bad one is marked failed with the reason
        and the inbox moves on; it never blocks the deliveries behind it."""
        for attempt in (1, 2):
            try:
                async with tx.savepoint():
                    return await self._apply(tx, delivery, silences)
            except StoreConflict:
                if attempt == 2:  # another process raced us twice: let the error show
                    raise
            except (StoreUnavailable, asyncio.CancelledError):
                raise
            except Exception as exc:
                log.error(
                    msg.ALERT_DELIVERY_FAILED,
                    exc_info=exc,
                    extra={"delivery": delivery.id, "kind": delivery.kind},
                )
                await tx.finish_delivery(
                    delivery.id, "failed", f"{type(exc).__name__}: {exc}"[:500]
                )
                return None
        return None

    async def _apply(
        self, tx: AlertTransaction, delivery: Delivery, silences: Sequence[Silence]
    ) -> tuple[AlertGroup, Outcome] | None:
        try:
            read = self._read(delivery)
        except UnreadableDelivery as exc:
            log.error(
                msg.ALERT_DELIVERY_UNREADABLE,
                extra={"delivery": delivery.id, "kind": delivery.kind, "error": str(exc)},
            )
            await tx.finish_delivery(delivery.id, "unreadable", str(exc)[:500])
            return None
        if read.signal is None:
            log.info(
                msg.ALERT_DELIVERY_IGNORED,
                extra={"delivery": delivery.id, "kind": delivery.kind, "note": read.note},
            )
            await tx.finish_delivery(delivery.id, Outcome.IGNORED.value, read.note)
            return None
        group, outcome = await self._record(tx, read.signal)
        await tx.finish_delivery(delivery.id, outcome.value)
        if group is None:
            return None
        silenced = any(s.covers(group) for s in silences)
        if silenced and outcome is not Outcome.RESOLVED:
            return group, outcome  # counted and kept; not posted, opens nothing
        if group.route_state is None and read.signal.firing and not read.signal.synthetic:
            # Until a route is decided, each firing signal may decide it: a metric alert
            # going warning → critical must reach its critical-only rule.
            route = route_for(read.signal, self._routes)
            if route is not None and route.action == "incident" and route.severity:
                await tx.mark_route(group, route.severity.value, [r.value for r in route.page])
                group = replace(group, route_state="pending")
        if self.board is not None:
            await self.board.on_change(tx, group, outcome)
        return group, outcome

    async def _record(
        self, tx: AlertTransaction, signal: AlertSignal
    ) -> tuple[AlertGroup | None, Outcome]:
        group = await tx.open_group(signal.key)
        if not signal.firing:
            if group is None:
                return None, Outcome.IGNORED
            return await tx.resolve_group(group, signal.occurred_at), Outcome.RESOLVED
        if group is None:
            if signal.synthetic and await tx.latest_group(signal.key) is not None:
                # The trace is over (resolved, perhaps before this arrived): a late or
                # replayed delivery of it shows nothing again.
                return None, Outcome.IGNORED
            return await tx.insert_group(signal), Outcome.NEW
        return await tx.count_repeat(group, signal), Outcome.REPEAT

    async def resolve_trace(self, trace_id: str) -> AlertGroup | None:
        """End a synthetic trace: its alert group resolved, and its message updated to say
        so (sent when the notice is next due). None when it had no firing group; then a
        resolved one is kept in its place, so a delivery of the trace read later (the
        reader was behind) is ignored instead of firing on its own."""
        now = self._clock()
        for attempt in (1, 2):
            try:
                async with self._store.transaction() as tx:
                    group = await tx.open_group(trace_key(trace_id))
                    if group is not None:
                        resolved = await tx.resolve_group(group, now)
                        if self.board is not None:
                            await self.board.on_change(tx, resolved, Outcome.RESOLVED)
                        return resolved
                    if await tx.latest_group(trace_key(trace_id)) is None:
                        async with tx.savepoint():
                            made = await tx.insert_group(trace_signal(trace_id, now, firing=True))
                        await tx.resolve_group(made, now)
                    return None
            except StoreConflict:  # the reader made its group meanwhile: resolve that one
                if attempt == 2:
                    raise
        return None

    async def run(self, command: AlertCommand, inv: Invocation) -> AlertReply:
        now = self._clock()
        match command:
            case ListAlerts():
                firing = await self._store.firing(LIST_LIMIT)
                return AlertListing(firing, await self._store.active_silences(now))
            case SilenceAlerts(group_id=group_id, project=project, duration=duration):
                if group_id is not None and await self._store.group(group_id) is None:
                    raise UserError(
                        f"There is no alert group A{group_id}: `/lucia alerts` lists them."
                    )
                silence = await self._store.add_silence(
                    group_id, project, command.reason, inv.actor, now, now + duration
                )
                target = f"A{group_id}" if group_id is not None else f"project {project}"
                why = f" ({command.reason})" if command.reason else ""
                return Noted(
                    f"Silenced {target} until {silence.ends_at:%Y-%m-%d %H:%M} UTC"
                    f"{why}: its alerts are counted but not posted. "
                    f"`/lucia alerts unsilence S{silence.id}` ends it."
                )
            case AcknowledgeNotice(notice_id=notice_id):
                if self.board is None:
                    raise UserError("Alert messages aren't set up on this bot.")
                await self.board.acknowledge(notice_id, inv.actor)
                return Noted("Acknowledged these alerts: the message now says so.")
            case SilenceNotice(notice_id=notice_id, duration=duration):
                return await self._silence_notice(notice_id, duration, inv.actor, now)
            case OpenIncidentFromNotice(notice_id=notice_id):
                return await self._open_from_notice(notice_id, inv.actor)
            case LiftSilence(silence_id=silence_id):
                lifted = await self._store.lift_silence(silence_id, inv.actor, now)
                if lifted is None:
                    raise UserError(
                        f"S{silence_id} isn't an active silence: `/lucia alerts` lists them."
                    )
                return Noted(f"Lifted silence S{silence_id}.")
        raise AssertionError(f"unhandled alert command {command!r}")

    async def _silence_notice(
        self, notice_id: int, duration: timedelta, actor: str, now: datetime
    ) -> Noted:
        groups = [
            g for g in await self._store.groups_of(notice_id) if g.status is GroupStatus.FIRING
        ]
        projects = sorted({g.project for g in groups if g.project})
        targets: list[tuple[int | None, str | None]] = (
            [(None, p) for p in projects] if projects else [(g.id, None) for g in groups]
        )
        if not targets:
            raise UserError("Nothing in that message is firing any more.")
        for group_id, project in targets:
            await self._store.add_silence(
                group_id, project, "from the alert message", actor, now, now + duration
            )
        names = ", ".join(p or f"A{g}" for g, p in targets)
        return Noted(
            f"Silenced {names} for {short_duration(duration, unit='min')}: counted, not posted. "
            "`/lucia alerts` lists silences."
        )

    async def _open_from_notice(self, notice_id: int, actor: str) -> AlertReply:
        groups = await self._store.groups_of(notice_id)
        if any(g.synthetic for g in groups):
            raise UserError("That message is a synthetic alert trace: it opens no incident.")
        firing = [g for g in groups if g.status is GroupStatus.FIRING]
        if not firing or self._router is None:
            raise UserError("Nothing in that message is firing any more.")
        top = firing[0]  # the most recently active
        if top.incident_number is not None:
            raise UserError(f"These alerts are already INC-{top.incident_number}.")
        incident = await self._router.open_for(top, opened_by=actor)
        opened = Text(
            f"Opened {incident.key} ({incident.severity.label})",
            in_channel(incident.channel_id),
            ".",
        )
        return Done(opened, incident)
