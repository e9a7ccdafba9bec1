"""Pages sent by hand (`/lucia page <role|@user> [message]`) and a page's own
acknowledgement (the DM's button), which acknowledges its incident too (a test page's
has none: `test_pages.py` words the answer)."""

from __future__ import annotations

__all__ = ["ManualPages"]

from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.errors import IllegalTransition, UserError
from bot.incidents.commands import Acknowledge
from bot.incidents.model import EventKind, TimelineEvent
from bot.incidents.ports import IncidentStore
from bot.incidents.replies import Noted, Reply
from bot.incidents.service import IncidentService
from bot.paging.commands import PageSomeone
from bot.paging.delivery import channel_name
from bot.paging.message import page_message
from bot.paging.model import new_page
from bot.paging.people import People
from bot.paging.ports import Contact, Notifier, PagingStore
from bot.paging.test_pages import acknowledged, check_acknowledger
from bot.paging.timeline import actor_ref, target_ref
from bot.paging.words import Person, from_markup, timeline_text, to_markup
from bot.types import Clock
from bot.vocabulary import Invocation


class ManualPages:
    def __init__(
        self,
        store: PagingStore,
        people: People,
        incidents: IncidentService,
        incident_store: IncidentStore,
        notifiers: Sequence[Notifier],
        clock: Clock,
        wake: Callable[[], None],  # the page sender: a page was written
    ) -> None:
        self._store = store
        self._people = people
        self._incidents = incidents
        self._incident_store = incident_store
        self._notifiers = notifiers
        self._clock = clock
        self._wake = wake

    async def page(self, command: PageSomeone, inv: Invocation) -> Reply:
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
        new = new_page(incident, command.target, contact, to_markup(words), inv.actor, now)
        async with self._store.transaction() as tx:
            page = await tx.add_page(new)
            if incident is not None:
                text = f"{actor_ref(inv.actor)} paged {contact.name} ({target_ref(page.target)})"
                if words:
                    text += f": {timeline_text(words)}"
                await tx.append(
                    TimelineEvent(
                        incident.number, now, EventKind.PAGE, inv.actor, text, {"page": page.id}
                    )
                )
        self._wake()
        ways = [
            channel_name(n.channel)
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

    async def acknowledge(self, page_id: int, inv: Invocation) -> Reply:
        async with self._store.transaction() as tx:
            page = await tx.acknowledge_page(page_id, inv.actor, self._clock())
            if page is not None and page.test:
                check_acknowledger(page, inv)  # refused: rolled back, nothing recorded
        if page is None:
            raise UserError("That page is gone from the database.")
        if page.test:  # no incident to acknowledge: the click itself is the evidence
            return acknowledged(page)
        if page.incident_number is None:
            return Noted("Acknowledged: recorded with the page.")
        try:
            return await self._incidents.run(Acknowledge(page.incident_number), inv)
        except IllegalTransition as exc:  # a later ack is harmless: say where it stands
            return Noted(exc.text if exc.text is not None else str(exc))
