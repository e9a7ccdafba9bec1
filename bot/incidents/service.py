"""Incident use-cases: each one changes stored state in one transaction, then tells the
chat front, rendering from what was stored."""

from __future__ import annotations

__all__ = ["DEFAULT_SEVERITY", "IncidentService", "in_channel"]

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import ClassVar, TypeVar, get_args

from bot import log_messages as msg
from bot.command_text import MAX_TEXT
from bot.durations import short_duration
from bot.errors import ChannelNameTaken, ChatError, DuplicateOpen, IncidentNotFound, UnknownUser
from bot.incidents import commands as cmd
from bot.incidents import lifecycle
from bot.incidents.channel_name import channel_name
from bot.incidents.commands import MAX_TITLE
from bot.incidents.lifecycle import Change
from bot.incidents.model import EventKind, Incident, Severity, TimelineEvent
from bot.incidents.ports import IncidentChat, IncidentStore, IncidentTransaction
from bot.incidents.replies import AskForDetails, Detail, Done, Listing, Reply, ShowHelp
from bot.text import ChannelRef, Mention, Text
from bot.types import Clock, JSONValue, UserId
from bot.vocabulary import SYSTEM_ACTOR, Invocation

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_SEVERITY = Severity.SEV3
LIST_LIMIT = 25
CHANNEL_NAME_ATTEMPTS = 5
DUPLICATE_OPEN_WINDOW = timedelta(minutes=1)


PagingGap = Callable[[Severity, Sequence[str]], Awaitable[str | None]]


async def _nobody_asked(_severity: Severity, _requested: Sequence[str]) -> str | None:
    return None


class IncidentService:
    handles: ClassVar[tuple[type, ...]] = get_args(cmd.IncidentsCommand)

    def __init__(
        self,
        store: IncidentStore,
        chat: IncidentChat,
        clock: Clock,
        *,
        announcement_channel: str | None,
        paging_gap: PagingGap = _nobody_asked,
        opened: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._chat = chat
        self._clock = clock
        self._announcement_channel = announcement_channel
        # One card refresh at a time per incident, so an older render never lands last.
        self._card_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._provisioning: set[int] = set()  # incidents whose channel/card are being made
        self._opened = opened  # paging's wake-up: the first page goes out now
        self._paging_gap = paging_gap  # whom an incident would page: None, or why nobody

    async def run(self, command: cmd.IncidentsCommand, inv: Invocation) -> Reply:
        match command:
            case cmd.Help():
                return ShowHelp()
            case cmd.OpenIncident(title=None, severity=severity):
                return AskForDetails(severity)
            case cmd.OpenIncident(title=str(), severity=severity):
                return await self.open(command, severity or DEFAULT_SEVERITY, inv)
            case cmd.ListIncidents(include_closed=include_closed):
                found = await self._store.list(include_closed=include_closed, limit=LIST_LIMIT + 1)
                return Listing(found[:LIST_LIMIT], include_closed, more=len(found) > LIST_LIMIT)
            case cmd.ShowIncident(with_timeline=with_timeline):
                incident = await self._find(command.number, inv)
                events = await self._store.timeline(incident.number) if with_timeline else None
                return Detail(incident, events)
            case cmd.SetLead(lead=lead) if not await self._chat.user_exists(lead):
                raise UnknownUser(
                    Text("I couldn't find the user ", Mention(lead), " in this workspace.")
                )
            case cmd.IncidentCommand():
                return await self._change(command, inv)
        raise AssertionError(f"unhandled command {command!r}")

    async def open(self, command: cmd.OpenIncident, severity: Severity, inv: Invocation) -> Done:
        assert command.title is not None
        now = self._clock()
        async with self._store.transaction() as tx:
            number = await tx.next_number()
            await self._refuse_a_retyped_open(tx, command.title, inv.actor, now)
            change = lifecycle.declare(
                number=number,
                title=command.title,
                severity=severity,
                description=command.description,
                actor=inv.actor,
                at=now,
                lead=inv.actor,
            )
            await tx.insert(change.incident)
            await tx.append(change.event)
        log.info(msg.INCIDENT_OPENED, extra={"incident": number, "severity": severity.value})
        invitees = list(dict.fromkeys([inv.actor, *command.responders]))
        warnings: list[str] = []
        incident = await self._provision(change.incident, invitees, warnings)
        await self._say_if_nobody_is_paged(incident, (), warnings)
        self._opened()
        opened = Text(
            f"Opened {incident.key} ({severity.label})", in_channel(incident.channel_id), "."
        )
        return Done(opened, incident, tuple(warnings))

    async def _refuse_a_retyped_open(
        self, tx: IncidentTransaction, title: str, actor: UserId, now: datetime
    ) -> None:
        """The same person retyping `incident open` (after a Slack timeout, say) gets one
        incident, not two. Raising here rolls the open back, number included."""
        wanted = " ".join(title.lower().split())
        for earlier in await tx.opened_since(actor, now - DUPLICATE_OPEN_WINDOW):
            if " ".join(earlier.title.lower().split()) == wanted:
                age = short_duration(max(now - earlier.created_at, timedelta(0)))
                raise DuplicateOpen(earlier.key, earlier.title, age, earlier.channel_id)

    def _unprovisioned(self, incident: Incident) -> bool:
        return incident.number not in self._provisioning and (
            incident.channel_id is None
            or incident.card_ts is None
            or bool(self._announcement_channel and incident.announcement_ts is None)
        )

    async def open_for_alert(
        self,
        *,
        alert_group_id: int,
        title: str,
        severity: Severity,
        description: str,
        page: tuple[str, ...],
        opened_by: UserId = SYSTEM_ACTOR,
    ) -> Incident:
        """The incident an alert group asks for (its route, or someone's click): opened once,
        whoever asks again. Opened by Lucia it has no lead yet; by a person, they lead."""
        existing = await self._store.find_by_alert_group(alert_group_id)
        if existing is not None:
            return existing
        async with self._store.transaction() as tx:
            number = await tx.next_number()
            change = lifecycle.declare(
                number=number,
                title=title[:MAX_TITLE],
                severity=severity,
                description=description,
                actor=opened_by,
                at=self._clock(),
                lead=None if opened_by == SYSTEM_ACTOR else opened_by,
                alert_group_id=alert_group_id,
            )
            await tx.insert(change.incident)
            await tx.append(change.event)
            if page:
                await tx.append(
                    TimelineEvent(
                        number,
                        change.event.at,
                        EventKind.PAGE_REQUESTED,
                        SYSTEM_ACTOR,
                        f"Page requested: {', '.join(page)} (routing rule)",
                        {"roles": ",".join(page)},
                    )
                )
        log.info(msg.INCIDENT_OPENED, extra={"incident": number, "severity": severity.value})
        warnings: list[str] = []
        invitees = [] if opened_by == SYSTEM_ACTOR else [opened_by]
        incident = await self._provision(change.incident, invitees, warnings)
        await self._say_if_nobody_is_paged(incident, page, warnings)
        self._opened()
        return incident

    async def note_alert(self, number: int, text: str, data: Mapping[str, JSONValue]) -> None:
        """What the incident's alert did; shown in its channel like any timeline event."""
        async with self._store.transaction() as tx:
            incident = await tx.get_for_update(number)
            if incident is None:
                raise IncidentNotFound(f"There is no incident #{number}.")
            event = TimelineEvent(
                number, self._clock(), EventKind.ALERT, SYSTEM_ACTOR, text, dict(data)
            )
            await tx.append(event)
        await self._after_change(Change(incident, event))

    async def capture_message(
        self,
        channel_id: str,
        message_ts: str,
        author: UserId,
        text: str,
        by: UserId,
    ) -> bool:
        """A message of an incident channel kept in its timeline at the message's own time
        (📌 or a pin), once however often it is pinned; False when the channel is no
        incident's or the message is already kept."""
        incident = await self._store.find_by_channel(channel_id)
        if incident is None:
            return False
        async with self._store.transaction() as tx:
            await tx.get_for_update(incident.number)  # one capture at a time
            if message_ts in _kept_messages(await tx.timeline(incident.number)):
                return False
            event = TimelineEvent(
                incident.number,
                datetime.fromtimestamp(float(message_ts), UTC),
                EventKind.PINNED,
                author,
                text[:MAX_TEXT],
                {"ts": message_ts, "channel": channel_id, "kept_by": by},
            )
            await tx.append(event)
        return True

    async def uncapture_message(self, channel_id: str, message_ts: str, by: UserId) -> bool:
        """Its 📌 or pin was removed: the kept message stays, and an event marks that."""
        incident = await self._store.find_by_channel(channel_id)
        if incident is None:
            return False
        async with self._store.transaction() as tx:
            await tx.get_for_update(incident.number)  # one at a time: marked once
            if message_ts not in _kept_messages(await tx.timeline(incident.number)):
                return False
            await tx.append(
                TimelineEvent(
                    incident.number,
                    self._clock(),
                    EventKind.UNPINNED,
                    by,
                    "Unpinned a kept message",
                    {"ts": message_ts, "channel": channel_id},
                )
            )
        return True

    async def _say_if_nobody_is_paged(
        self, incident: Incident, requested: Sequence[str], warnings: list[str]
    ) -> None:
        """Loudly, in the answer and on the timeline (so in the channel too)."""
        gap = await self._paging_gap(incident.severity, requested)
        if gap is None:
            return
        warnings.append(gap)
        await self.record(
            TimelineEvent(
                incident.number, self._clock(), EventKind.ESCALATION, SYSTEM_ACTOR, f"⚠️ {gap}"
            )
        )

    async def _reach_warning(self, incident: Incident) -> str | None:
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

    async def record(self, event: TimelineEvent) -> None:
        """An event of another part (a playbook step): stored, then shown in the channel."""
        async with self._store.transaction() as tx:
            await tx.append(event)
        await self.show(event)

    async def show(self, event: TimelineEvent) -> None:
        """An event stored by another part (paging), shown in the incident's channel."""
        incident = await self._store.get(event.incident_number)
        if incident is not None and incident.channel_id:
            await self._attempt(
                [],
                "post this in the incident channel",
                self._chat.post_event(incident.channel_id, incident, event),
            )

    async def _provision(
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
                self._chat.post_card(channel, incident, await self._reach_warning(incident)),
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

    async def _change(self, command: cmd.IncidentCommand, inv: Invocation) -> Done:
        number = (await self._find(command.number, inv)).number
        async with self._store.transaction() as tx:
            incident = await tx.get_for_update(number)
            if incident is None:
                raise IncidentNotFound(f"There is no incident #{number}.")
            change = self._step(command, incident, inv.actor)
            await tx.update(change.incident)
            await tx.append(change.event)
        log.info(msg.INCIDENT_CHANGED, extra={"incident": number, "kind": change.event.kind.value})
        warnings = await self._after_change(change)
        said = Text(f"{change.incident.key}: {change.event.text}")  # the event's text as stored
        return Done(said, change.incident, warnings, change.event)

    def _step(self, command: cmd.IncidentCommand, incident: Incident, actor: UserId) -> Change:
        at = self._clock()
        match command:
            case cmd.Acknowledge():
                return lifecycle.acknowledge(incident, actor, at)
            case cmd.PostUpdate(text=text):
                return lifecycle.post_update(incident, text, actor, at)
            case cmd.SetStatus(status=status, text=text):
                return lifecycle.set_status(incident, status, text, actor, at)
            case cmd.SetSeverity(severity=severity):
                return lifecycle.set_severity(incident, severity, actor, at)
            case cmd.SetLead(lead=lead):
                return lifecycle.set_lead(incident, lead, actor, at)
            case cmd.AddNote(text=text):
                return lifecycle.add_note(incident, text, actor, at)
            case cmd.Mitigate():
                return lifecycle.mitigate(incident, actor, at)
            case cmd.Resolve(summary=summary):
                return lifecycle.resolve(incident, summary, actor, at)
            case cmd.Reopen():
                return lifecycle.reopen(incident, actor, at)
        raise AssertionError(f"unhandled incident command {command!r}")

    async def _after_change(self, change: Change) -> tuple[str, ...]:
        warnings: list[str] = []
        if self._unprovisioned(change.incident):
            invitees = list(dict.fromkeys([change.incident.opened_by, change.event.actor]))
            await self._provision(change.incident, invitees, warnings)
        incident = await self.refresh_cards(change.incident.number, warnings)
        if incident.channel_id:
            await self._attempt(
                warnings,
                "post this in the incident channel",
                self._chat.post_event(incident.channel_id, incident, change.event),
            )
        return tuple(warnings)

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
                        await self._reach_warning(incident),
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

    async def _find(self, number: int | None, inv: Invocation) -> Incident:
        if number is not None:
            incident = await self._store.get(number)
            if incident is None:
                raise IncidentNotFound(
                    f"There is no incident #{number}. `/lucia incident list --all` shows them all."
                )
            return incident
        incident = await self._store.find_by_channel(inv.channel_id) if inv.channel_id else None
        if incident is None:
            raise IncidentNotFound(
                "Which incident? Add its number (for example `#12`), or run the command "
                "in the incident's channel."
            )
        return incident

    async def _attempt(self, warnings: list[str], what: str, call: Awaitable[T]) -> T | None:
        try:
            return await call
        except ChatError as exc:
            log.warning(msg.CHAT_CALL_FAILED, extra={"what": what, "error": exc.code})
            warnings.append(f"I couldn't {what} ({exc.code}).")
            return None


def _kept_messages(timeline: Sequence[TimelineEvent]) -> set[str]:
    """Timestamps of the messages kept (📌 or pinned) and not since unpinned."""
    kept: set[str] = set()
    for event in timeline:
        ts = str(event.data.get("ts", ""))
        if event.kind is EventKind.PINNED:
            kept.add(ts)
        elif event.kind is EventKind.UNPINNED:
            kept.discard(ts)
    return kept


def _topic(incident: Incident) -> str:
    topic = f"{incident.key} · {incident.severity.label} · {incident.title}"
    return topic[:250]


def in_channel(channel_id: str | None) -> Text:
    """' in #channel' for a sentence about an incident, or nothing when it has none."""
    return Text(" in ", ChannelRef(channel_id)) if channel_id else Text()
