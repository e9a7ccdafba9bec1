"""Paging use-cases: escalation chains run as rows with due times, pages delivered through
every channel a person has, the launch-gate table and references kept and audited.

`tick` is what the scheduler runs every second, in any number of processes: each part
claims its rows (`FOR UPDATE SKIP LOCKED`), so every step fires once and every page is
sent once. An acknowledgement needs no message to reach paging: a step or a page of an
acknowledged incident is never claimed, and the next tick records the stop.
"""

from __future__ import annotations

__all__ = ["PagingService"]

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from bot import log_messages as msg
from bot.config import LuciaConfig, Owner, Role
from bot.durations import spoken_duration
from bot.errors import DeliveryFailed, IllegalTransition, StoreUnavailable, UserError
from bot.incidents import commands as cmd
from bot.incidents.model import EventKind, Incident, Severity, TimelineEvent
from bot.incidents.ports import IncidentStore
from bot.incidents.replies import Noted, Reply
from bot.incidents.service import SYSTEM_ACTOR, IncidentService, Invocation
from bot.paging.message import compose, page_message
from bot.paging.model import (
    Delivery,
    DeliveryStatus,
    Escalation,
    EscalationStatus,
    OwnerEntry,
    Page,
    PageStatus,
    build_chain,
    describe_chain,
)
from bot.paging.people import People, is_placeholder
from bot.paging.ports import (
    Contact,
    NewPage,
    Notifier,
    PagingStore,
    PagingTransaction,
    ProfileNames,
)
from bot.paging.words import Person, from_markup, is_slack_user, timeline_text, to_markup
from bot.secret_shapes import looks_secret
from bot.types import Clock, JSONValue

T = TypeVar("T")

log = logging.getLogger(__name__)

BATCH = 20
URGENT = (Severity.SEV1, Severity.SEV2)
CHANNEL_NAMES = {
    "slack_dm": "Slack DM",
    "slack_mention": "mention in the channel",
    "email": "e-mail",
    "push": "push",
}

Announce = Callable[[TimelineEvent], Awaitable[None]]


class PagingService:
    def __init__(
        self,
        store: PagingStore,
        incidents: IncidentService,
        incident_store: IncidentStore,
        notifiers: Sequence[Notifier],
        config: LuciaConfig,
        clock: Clock,
        announce: Announce,
        *,
        profiles: ProfileNames | None = None,  # Slack profiles, when Slack is configured
    ) -> None:
        self._store = store
        self._people = People(store, profiles)
        self._incidents = incidents
        self._incident_store = incident_store
        self._notifiers = notifiers
        self._channels = frozenset(n.channel for n in notifiers)
        self._config = config
        self._clock = clock
        self._announce = announce  # shows a stored timeline event in the incident channel
        self.wake: Callable[[], None] = lambda: None  # run the tick now (set by the runtime)

    # --- the launch-gate table -----------------------------------------------------

    async def responders(self) -> set[str]:
        """Who may run playbooks: the launch-gate owners, admins and configured responders."""
        people = {e.contact.slack_user for e in await self._store.owners() if e.contact}
        return (
            {p for p in people if p}
            | set(self._config.admins)
            | set(self._config.playbooks.responders)
        )

    async def load_config(self) -> None:
        """lucia.yaml into the database: the copy paging reads."""
        now = self._clock()
        owners = [_entry(role, self._config.owners.get(role)) for role in Role]
        changed = await self._store.load_owners(owners, now)
        refs = self._config.references.model_dump()
        changed += await self._store.load_refs(refs, now)
        if changed:
            log.info(msg.LAUNCH_GATE_LOADED, extra={"changed": ",".join(changed)})

    # --- the tick ------------------------------------------------------------------

    async def escalate(self) -> None:
        """The chains: stops, starts, restarts and due steps. Sending is `send_pages`, in a
        flight of its own, so a slow SMTP server never holds an acknowledgement's stop."""
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
                incident = unstarted.incident
                now = self._clock()
                policy = self._config.escalation.get(incident.severity)
                chain = build_chain(policy, unstarted.requested_roles)
                if not chain.steps or incident.acknowledged_at or incident.resolved_at:
                    await tx.start(Escalation(incident.number, chain, _NONE, 0, 0, None, now))
                    continue
                if not await tx.start(Escalation(incident.number, chain, _ACTIVE, 0, 0, now, now)):
                    continue  # another process started it
                event = _event(
                    incident.number,
                    now,
                    EventKind.ESCALATION,
                    f"Escalation started: {describe_chain(chain)}",
                    {"chain": chain.to_json()},
                )
                await tx.append(event)
                shown.append(event)
        await self._show(shown)
        return len(found)

    async def revive(self) -> int:
        """A reopened incident needs a fresh acknowledgement, and one raised to a severity
        that pages needs paging: their chains start again, from the severity's policy now."""
        shown: list[TimelineEvent] = []
        async with self._store.transaction() as tx:
            found = await tx.revivable(BATCH)
            for escalation, incident in found:
                now = self._clock()
                policy = self._config.escalation.get(incident.severity)
                chain = build_chain(policy, ()) if policy else escalation.chain
                why = (
                    "reopened"
                    if escalation.status is _STOPPED
                    else f"now {incident.severity.label}"
                )
                if not chain.steps:
                    await tx.advance(replace(escalation, status=_NONE, started_at=now))
                    continue
                await tx.advance(Escalation(incident.number, chain, _ACTIVE, 0, 0, now, now))
                text = f"Escalation started again ({why}): {describe_chain(chain)}"
                event = _event(
                    incident.number, now, EventKind.ESCALATION, text, {"chain": chain.to_json()}
                )
                await tx.append(event)
                shown.append(event)
        await self._show(shown)
        return len(found)

    async def fire_due(self) -> int:
        """Fire every step that is due: its pages are written with it, in one transaction."""
        shown: list[TimelineEvent] = []
        async with self._store.transaction() as tx:
            due = await tx.claim_due(self._clock(), BATCH)
            for escalation, incident in due:
                shown.append(await self._fire(tx, escalation, incident))
        await self._show(shown)
        if due:
            self.wake()
        return len(due)

    async def _fire(
        self, tx: PagingTransaction, escalation: Escalation, incident: Incident
    ) -> TimelineEvent:
        now = self._clock()
        chain = escalation.chain
        if escalation.round > chain.repeat:
            await tx.advance(replace(escalation, status=_EXHAUSTED, due_at=None, stopped_at=now))
            rounds = chain.repeat + 1
            text = (
                f"Escalation exhausted: nobody acknowledged after {rounds} "
                f"round{'s' if rounds > 1 else ''}. Page someone with `/lucia page`."
            )
            event = _event(incident.number, now, EventKind.ESCALATION, text, {"exhausted": True})
            await tx.append(event)
            return event
        step = chain.steps[escalation.step]
        paged, skipped = [], []
        queued = 0  # pages written, now or delayed by the throttle
        for role in step.roles:
            entry = await tx.owner(role)
            if entry is None or entry.contact is None:
                skipped.append(f"nobody holds {role}")
                continue
            new = self._new_page(incident, role, entry.contact, "", SYSTEM_ACTOR, now)
            throttle = self._config.paging.throttle
            last = await tx.last_paged(new.person, now - throttle)
            if last is not None:  # paged moments ago: this page waits, it isn't dropped
                new = replace(new, due_at=last + throttle)
                skipped.append(
                    f"{entry.contact.name} ({role}) was paged at {last:%H:%M:%S}; "
                    f"this page waits until {last + throttle:%H:%M:%S} UTC"
                )
            else:
                paged.append(f"{entry.contact.name} ({role})")
            await tx.add_page(new)
            queued += 1
        position = f"step {escalation.step + 1}/{len(chain.steps)}"
        if chain.repeat:
            position += f", round {escalation.round + 1}/{chain.repeat + 1}"
        text = f"Escalation {position}: paging {', '.join(paged) or 'nobody now'}"
        if skipped:
            text += f" ({'; '.join(skipped)})"
        next_step, next_round = escalation.step + 1, escalation.round
        if next_step == len(chain.steps):
            next_step, next_round = 0, next_round + 1
        # A step that reached nobody (every role empty) doesn't hold the chain up.
        wait = step.wait if queued else timedelta(0)
        await tx.advance(replace(escalation, step=next_step, round=next_round, due_at=now + wait))
        data: dict[str, JSONValue] = {
            "step": escalation.step + 1,
            "round": escalation.round + 1,
            "roles": ",".join(step.roles),
        }
        event = _event(incident.number, now, EventKind.ESCALATION, text, data)
        await tx.append(event)
        return event

    async def stop_answered(self) -> int:
        """Record the stop of every escalation whose incident was acknowledged or resolved."""
        shown: list[TimelineEvent] = []
        async with self._store.transaction() as tx:
            answered = await tx.answered(BATCH)
            for escalation, incident in answered:
                now = self._clock()
                await tx.cancel_pages(incident.number, now)
                await tx.advance(replace(escalation, status=_STOPPED, due_at=None, stopped_at=now))
                if incident.acknowledged_at is not None:
                    waited = incident.acknowledged_at - incident.created_at
                    who = _ref(incident.acknowledged_by or "")
                    text = (
                        f"Escalation stopped: {who} acknowledged "
                        f"{spoken_duration(waited, padded=True)} after the incident opened"
                    )
                    data = {"time_to_acknowledge_s": int(waited.total_seconds())}
                else:
                    text, data = "Escalation stopped: the incident was resolved", {}
                event = _event(incident.number, now, EventKind.ESCALATION, text, data)
                await tx.append(event)
                shown.append(event)
        await self._show(shown)
        return len(answered)

    # --- deliveries ----------------------------------------------------------------

    async def send_pages(self) -> int:
        """Every due page, one claimed at a time: its lease covers only its own sends, and
        is renewed while they run."""
        sent = 0
        while True:
            now = self._clock()
            lease = self._config.paging.send_lease
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
        lease = self._config.paging.send_lease
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
        who = f"{message.person.name} ({_who(page)})"
        text = f"Paged {who}: {summary or 'no way to reach them'}"
        if answered:
            text = f"Paged {who}: {summary or 'nothing sent'} (the rest not sent: answered)"
        event = None
        if page.incident_number is not None:
            event = _event(
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
            await self._show([event])

    # --- commands ------------------------------------------------------------------

    async def run(self, command: cmd.PagingCommand, inv: Invocation) -> Reply:
        match command:
            case cmd.PageSomeone():
                return await self._page(command, inv)
            case cmd.AcknowledgePage(page_id=page_id):
                return await self._acknowledge(page_id, inv)
            case cmd.ShowOwners():
                return Noted(_owners_table(await self._store.owners(), self._channels))
            case cmd.SetOwner():
                return await self._set_owner(command, inv)
            case cmd.ShowRefs():
                return Noted(_refs_table(await self._store.refs()))
            case cmd.SetRef(key=key, value=value):
                await self._may_change(inv, "the references")
                if looks_secret(value):
                    raise UserError(
                        "That looks like a secret. References point to where secrets live "
                        "(a vault path, a URL); never the secret itself."
                    )
                await self._store.set_ref(key, value, inv.actor, self._clock())
                return Noted(f"Reference `{key}` is now {value} (recorded in the audit log).")
        raise AssertionError(f"unhandled paging command {command!r}")

    async def _page(self, command: cmd.PageSomeone, inv: Invocation) -> Reply:
        owners = await self._store.owners()
        if command.is_role:
            entry = next(e for e in owners if e.role.value == command.target)
            if entry.contact is None:
                raise UserError(
                    f"Nobody holds {command.target}: `/lucia owners set {command.target} @user`."
                )
            contact = entry.contact
        else:
            held = [
                e.contact for e in owners if e.contact and e.contact.slack_user == command.target
            ]
            contact = held[0] if held else Contact(command.target, command.target)
        # The page keeps the name it was sent under (the table's, else Slack's profile).
        contact = replace(contact, name=(await self._people.contact(contact)).name)
        words = from_markup(command.message)
        incident = (
            await self._incident_store.find_by_channel(inv.channel_id) if inv.channel_id else None
        )
        now = self._clock()
        new = self._new_page(incident, command.target, contact, to_markup(words), inv.actor, now)
        async with self._store.transaction() as tx:
            page = await tx.add_page(new)
            if incident is not None:
                text = f"{_ref(inv.actor)} paged {contact.name} ({_who(page)})"
                if words:
                    text += f": {timeline_text(words)}"
                await tx.append(
                    TimelineEvent(
                        incident.number, now, EventKind.PAGE, inv.actor, text, {"page": page.id}
                    )
                )
        self.wake()
        ways = [
            CHANNEL_NAMES.get(n.channel, n.channel)
            for n in self._notifiers
            if n.reaches(contact, page_message(page, incident, Person(contact.name), None, ()))
        ]
        where = f" for {incident.key}" if incident else ""
        if not ways:
            return Noted(
                f"{contact.name}{where} can't be reached: no way this bot has fits their "
                "contact details, so the page is recorded as failed. `/lucia owners` shows "
                "what is missing.",
                warning=True,
            )
        return Noted(f"Paging {contact.name}{where} by {', '.join(ways)}. Their answer stops it.")

    async def _acknowledge(self, page_id: int, inv: Invocation) -> Reply:
        async with self._store.transaction() as tx:
            page = await tx.acknowledge_page(page_id, inv.actor, self._clock())
        if page is None:
            raise UserError("That page is gone from the database.")
        if page.incident_number is None:
            return Noted("Acknowledged: recorded with the page.")
        try:
            return await self._incidents.run(cmd.Acknowledge(page.incident_number), inv)
        except IllegalTransition as exc:  # a later ack is harmless: say where it stands
            return Noted(str(exc))

    async def _set_owner(self, command: cmd.SetOwner, inv: Invocation) -> Reply:
        await self._may_change(inv, "the launch-gate table")
        role = Role(command.role)
        current = next(e for e in await self._store.owners() if e.role is role)
        keep = (
            current.contact
            if current.contact and current.contact.slack_user == command.user
            else None
        )
        if keep is not None and not is_placeholder(keep.name, keep.slack_user):
            name = keep.name
        else:  # someone new: by the name the table or their Slack profile has for them
            name = (await self._people.names({command.user: ""}))[command.user]
        contact = Contact(
            name=name,
            slack_user=command.user,
            email=command.email or (keep.email if keep else None),
            phone=command.phone or (keep.phone if keep else None),
            push_topic=keep.push_topic if keep else None,
        )
        entry = await self._store.set_owner(
            OwnerEntry(role, contact, current.notes), inv.actor, self._clock()
        )
        gaps = entry.gaps(self._channels)
        text = f"{role.value} is now <@{command.user}> (recorded in the audit log)."
        if gaps:
            text += " Still missing: " + "; ".join(gaps) + "."
        return Noted(text)

    async def _may_change(self, inv: Invocation, what: str) -> None:
        """Only whoever holds the owner role, or a configured admin, changes the table."""
        owner = next(e for e in await self._store.owners() if e.role is Role.OWNER)
        holder = owner.contact.slack_user if owner.contact else None
        if inv.actor in self._config.admins or (holder is not None and inv.actor == holder):
            return
        if holder is not None:
            raise UserError(f"Only the owner (<@{holder}>) or an admin may change {what}.")
        raise UserError(
            f"Nobody holds the owner role yet, so nobody may change {what} from chat. "
            "Name the owner in lucia.yaml (`owners:` → `owner:` with `name` and `slack: "
            f"U…`), or put your user id (`{inv.actor}`) under `admins:`, and restart; in "
            f"the shell that id is the one you start it with: `lucia-bot shell --user "
            f"{inv.actor}`."
        )

    def _new_page(
        self,
        incident: Incident | None,
        target: str,
        contact: Contact,
        message: str,
        by: str,
        now: datetime,
    ) -> NewPage:
        return NewPage(
            incident_number=incident.number if incident else None,
            target=target,
            contact=contact,
            message=message,
            urgent=incident is None or incident.severity in URGENT,
            status=PageStatus.PENDING,
            due_at=now,
            created_at=now,
            created_by=by,
        )

    async def _show(self, events: list[TimelineEvent]) -> None:
        for event in events:
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
    return "a mention in the channel" if channel == "slack_mention" else _name(channel)


def _name(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)


def _result(channel: str, delivery: Delivery) -> str:
    """`e-mail ✓`, `push ✗ (ntfy 429 …)`, `e-mail ? (unknown: the bot stopped …)`."""
    if delivery.ok:
        return f"{_name(channel)} ✓"
    mark = "?" if delivery.status is DeliveryStatus.UNKNOWN else "✗"
    return f"{_name(channel)} {mark} ({delivery.detail})"


_ACTIVE, _STOPPED = EscalationStatus.ACTIVE, EscalationStatus.STOPPED
_EXHAUSTED, _NONE = EscalationStatus.EXHAUSTED, EscalationStatus.NONE


def _entry(role: Role, owner: Owner | None) -> OwnerEntry:
    if owner is None:
        return OwnerEntry(role, None)
    contact = Contact(owner.name, owner.slack, owner.email, owner.phone, owner.push_topic)
    return OwnerEntry(role, contact, owner.notes)


def _who(page: Page) -> str:
    return page.target if page.target in cmd.ROLES else f"<@{page.target}>"


def _ref(actor: str) -> str:
    """An actor in a timeline event's text: a Slack user by id (each front shows them its
    own way), Lucia and shell users by name."""
    if actor == SYSTEM_ACTOR:
        return "Lucia"
    return f"<@{actor}>" if is_slack_user(actor) else actor


def _event(
    number: int, at: datetime, kind: EventKind, text: str, data: Mapping[str, JSONValue]
) -> TimelineEvent:
    return TimelineEvent(number, at, kind, SYSTEM_ACTOR, text, dict(data))


def _owners_table(entries: Sequence[OwnerEntry], channels: Collection[str]) -> str:
    lines = ["*Launch-gate owners*"]
    for entry in entries:
        c = entry.contact
        if c is None:
            lines.append(
                f"• *{entry.role.value}*: ⚠️ nobody — `/lucia owners set {entry.role.value} @user`"
            )
            continue
        ways = [
            f"<@{c.slack_user}>" if c.slack_user else None,
            c.email,
            c.phone,
            "push" if c.push_topic else None,
        ]
        line = f"• *{entry.role.value}*: {c.name} — {', '.join(w for w in ways if w)}"
        for gap in entry.gaps(channels):
            line += f"\n    ⚠️ {gap}"
        lines.append(line)
    return "\n".join(lines)


def _refs_table(values: dict[str, str | None]) -> str:
    lines = ["*References* (pointers, never secrets)"]
    for key in cmd.REFERENCE_KEYS:
        value = values.get(key)
        lines.append(f"• *{key}*: {value}" if value else f"• *{key}*: ⚠️ not set")
    return "\n".join(lines)
