"""What the chat shows of an incident: its channel (created, people invited, topic set),
its card and its announcement, each made after the incident is stored, each failure a
warning and a timeline event, never an undo; the card re-rendered from what is stored."""

from __future__ import annotations

__all__ = ["CHANNEL_NAME_ATTEMPTS", "IncidentSurfaces", "PagingGap"]

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TypeVar

from bot import log_messages as msg
from bot.errors import ChannelNameTaken, ChatError
from bot.incidents.channel_name import channel_name
from bot.incidents.model import EventKind, Incident, TimelineEvent
from bot.incidents.ports import IncidentChat, IncidentStore
from bot.types import Clock, UserId
from bot.vocabulary import SYSTEM_ACTOR, Severity

log = logging.getLogger(__name__)

T = TypeVar("T")

CHANNEL_NAME_ATTEMPTS = 5

PagingGap = Callable[[Severity, Sequence[str]], Awaitable[str | None]]


class IncidentSurfaces:
    def __init__(
        self,
        store: IncidentStore,
        chat: IncidentChat,
        clock: Clock,
        *,
        announcement_channel: str | None,
        paging_gap: PagingGap,
    ) -> None:
        self._store = store
        self._chat = chat
        self._clock = clock
        self._announcement_channel = announcement_channel
        self._paging_gap = paging_gap  # whom an incident would page: None, or why nobody
        # One card refresh at a time per incident, so an older render never lands last.
        self._card_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._provisioning: set[int] = set()  # incidents whose channel/card are being made

    async def post_event(
        self, incident: Incident, event: TimelineEvent, warnings: list[str]
    ) -> None:
        if incident.channel_id:
            await self._attempt(
                warnings,
                "post this in the incident channel",
                self._chat.post_event(incident.channel_id, incident, event),
            )

    def unprovisioned(self, incident: Incident) -> bool:
        return incident.number not in self._provisioning and (
            incident.channel_id is None
            or incident.card_ts is None
            or bool(self._announcement_channel and incident.announcement_ts is None)
        )

    async def provision(
        self, incident: Incident, invitees: list[UserId], warnings: list[str]
    ) -> Incident:
        """Channel, invite, topic, card and announcement: each after the incident is stored,
        each failure recorded and reported without undoing the incident. Whatever is already
        in place is kept, so a later command can finish what a Slack outage interrupted."""
        self._provisioning.add(incident.number)
        try:
            return await self._provision_parts(incident, invitees, warnings)
        finally:
            self._provisioning.discard(incident.number)

    async def _provision_parts(
        self, incident: Incident, invitees: list[UserId], warnings: list[str]
    ) -> Incident:
        drawn: set[datetime] = set()  # the versions (updated_at) the posted messages show
        if incident.channel_id is None:
            incident = await self._create_channel(incident, warnings)
        if incident.channel_id and incident.card_ts is None:
            channel = incident.channel_id
            await self._attempt(
                warnings, "invite people to the channel", self._chat.invite(channel, invitees)
            )
            await self._attempt(
                warnings, "set the channel topic", self._chat.set_topic(channel, _topic(incident))
            )
            drawn.add(incident.updated_at)
            ts = await self._attempt(
                warnings,
                "post the incident card",
                self._chat.post_card(channel, incident, await self.reach_warning(incident)),
            )
            if ts:
                incident = await self._save_refs(incident, card_ts=ts)
        if self._announcement_channel and incident.announcement_ts is None:
            drawn.add(incident.updated_at)
            posted = await self._attempt(
                warnings,
                "announce it in the incidents channel",
                self._chat.post_announcement(self._announcement_channel, incident),
            )
            if posted:
                incident = await self._save_refs(
                    incident,
                    announcement_channel_id=posted.channel_id,
                    announcement_ts=posted.message_id,
                )
        latest = await self._store.get(incident.number)
        if latest is not None and drawn - {latest.updated_at}:
            # Someone changed it (a quick ack) while the card was being posted.
            incident = await self.refresh_cards(incident.number, warnings)
        return incident

    async def _create_channel(self, incident: Incident, warnings: list[str]) -> Incident:
        error: ChatError | None = None
        for attempt in range(1, CHANNEL_NAME_ATTEMPTS + 1):
            name = channel_name(incident.number, incident.title, attempt)
            try:
                channel_id = await self._chat.create_channel(name)
            except ChannelNameTaken as exc:
                error = exc
                continue
            except ChatError as exc:
                error = exc
                break
            return await self._record(
                incident,
                partial(replace, channel_id=channel_id, channel_name=name),
                EventKind.CHANNEL_CREATED,
                f"Channel #{name} created",
                channel_id=channel_id,
                channel_name=name,
            )
        assert error is not None
        warnings.append(f"I couldn't create the incident channel ({error.code}).")
        log.warning(
            msg.CHANNEL_CREATE_FAILED, extra={"incident": incident.number, "error": error.code}
        )
        return await self._record(
            incident,
            lambda inc: inc,
            EventKind.CHANNEL_FAILED,
            f"Channel creation failed: {error.code}",
            error=error.code,
        )

    async def _record(
        self,
        incident: Incident,
        apply: Callable[[Incident], Incident],
        kind: EventKind,
        text: str,
        **data: str,
    ) -> Incident:
        """A bot-made change (system actor) with its timeline event, in one transaction."""
        async with self._store.transaction() as tx:
            current = await tx.get_for_update(incident.number)
            assert current is not None
            changed = apply(current)
            await tx.update(changed)
            await tx.append(
                TimelineEvent(incident.number, self._clock(), kind, SYSTEM_ACTOR, text, dict(data))
            )
        return changed

    async def _save_refs(self, incident: Incident, **refs: str) -> Incident:
        """Where the card lives: bookkeeping for later updates, not a change of the incident."""
        async with self._store.transaction() as tx:
            current = await tx.get_for_update(incident.number)
            assert current is not None
            changed = replace(current, **refs)  # type: ignore[arg-type]
            await tx.update(changed)
        return changed

    async def reach_warning(self, incident: Incident) -> str | None:
        """For the card, as things stand now: whom its chain would page, if nobody."""
        if not incident.status.is_open:
            return None
        requested = [
            role
            for event in await self._store.timeline(incident.number)
            if event.kind is EventKind.PAGE_REQUESTED
            for role in str(event.data.get("roles", "")).split(",")
            if role
        ]
        return await self._paging_gap(incident.severity, requested)

    async def show(self, event: TimelineEvent) -> None:
        """An event stored elsewhere, shown in the incident's channel."""
        incident = await self._store.get(event.incident_number)
        if incident is not None and incident.channel_id:
            await self._attempt(
                [],
                "post this in the incident channel",
                self._chat.post_event(incident.channel_id, incident, event),
            )

    async def refresh_cards(self, number: int, warnings: list[str]) -> Incident:
        """Re-render the card and the announcement from the incident as stored now."""
        async with self._card_locks[number]:
            incident = await self._store.get(number)
            assert incident is not None
            if incident.channel_id and incident.card_ts:
                await self._attempt(
                    warnings,
                    "update the incident card",
                    self._chat.update_card(
                        incident.channel_id,
                        incident.card_ts,
                        incident,
                        await self.reach_warning(incident),
                    ),
                )
            if incident.announcement_channel_id and incident.announcement_ts:
                await self._attempt(
                    warnings,
                    "update the announcement",
                    self._chat.update_announcement(
                        incident.announcement_channel_id, incident.announcement_ts, incident
                    ),
                )
        return incident

    async def _attempt(self, warnings: list[str], what: str, call: Awaitable[T]) -> T | None:
        try:
            return await call
        except ChatError as exc:
            log.warning(msg.CHAT_CALL_FAILED, extra={"what": what, "error": exc.code})
            warnings.append(f"I couldn't {what} ({exc.code}).")
            return None


def _topic(incident: Incident) -> str:
    topic = f"{incident.key} · {incident.severity.label} · {incident.title}"
    return topic[:250]
