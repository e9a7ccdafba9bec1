"""Incident use-cases: each one changes stored state in one transaction, then tells the
chat front, rendering from what was stored."""

from __future__ import annotations

__all__ = ["DEFAULT_SEVERITY", "IncidentService", "in_channel"]

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar, get_args

from bot import log_messages as msg
from bot.command_text import MAX_TEXT
from bot.durations import short_duration
from bot.errors import DuplicateOpen, IncidentNotFound, UnknownUser
from bot.incidents import commands as cmd
from bot.incidents import lifecycle
from bot.incidents.commands import MAX_TITLE
from bot.incidents.lifecycle import Change
from bot.incidents.model import EventKind, Incident, TimelineEvent
from bot.incidents.ports import IncidentChat, IncidentStore, IncidentTransaction
from bot.incidents.replies import AskForDetails, Detail, Done, Listing, Reply, ShowHelp
from bot.incidents.surfaces import IncidentSurfaces, PagingGap
from bot.text import ChannelRef, Mention, Text
from bot.types import Clock, JSONValue, UserId
from bot.vocabulary import SYSTEM_ACTOR, Invocation, Severity

log = logging.getLogger(__name__)


DEFAULT_SEVERITY = Severity.SEV3
LIST_LIMIT = 25
DUPLICATE_OPEN_WINDOW = timedelta(minutes=1)


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
        self._surfaces = IncidentSurfaces(
            store, chat, clock, announcement_channel=announcement_channel, paging_gap=paging_gap
        )
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
        incident = await self._surfaces.provision(change.incident, invitees, warnings)
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
        incident = await self._surfaces.provision(change.incident, invitees, warnings)
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

    async def show(self, event: TimelineEvent) -> None:
        """An event stored by another part (paging), shown in the incident's channel."""
        await self._surfaces.show(event)

    async def record(self, event: TimelineEvent) -> None:
        """An event of another part (a playbook step): stored, then shown in the channel."""
        async with self._store.transaction() as tx:
            await tx.append(event)
        await self.show(event)

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
        if self._surfaces.unprovisioned(change.incident):
            invitees = list(dict.fromkeys([change.incident.opened_by, change.event.actor]))
            await self._surfaces.provision(change.incident, invitees, warnings)
        incident = await self._surfaces.refresh_cards(change.incident.number, warnings)
        await self._surfaces.post_event(incident, change.event, warnings)
        return tuple(warnings)

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


def in_channel(channel_id: str | None) -> Text:
    """' in #channel' for a sentence about an incident, or nothing when it has none."""
    return Text(" in ", ChannelRef(channel_id)) if channel_id else Text()
