"""Test pages for the launch gate: a page marked TEST to each launch-gate owner, through
every channel they have, opening no incident and starting no escalation. Pressing the
DM's Acknowledge is the evidence that the person can be reached (`latest`).

A test page is an ordinary page row (`pages.test`), sent by the page sender like any
other, so its per-channel results are stored the same way. It is not urgent, never
counts for or waits on the escalation throttle, and only the person it pages may
acknowledge it. One person holding several roles with the same details gets one page.
"""

from __future__ import annotations

__all__ = ["TestPageRecord", "TestPages", "acknowledged", "check_acknowledger"]

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.errors import UserError
from bot.incidents.replies import ItemList, Noted, Reply
from bot.paging.delivery import channel_name
from bot.paging.message import page_message
from bot.paging.model import Delivery, DeliveryStatus, OwnerEntry, Page, PageStatus
from bot.paging.people import People
from bot.paging.ports import Contact, NewPage, Notifier, PagingStore
from bot.paging.words import Person, to_markup
from bot.text import Code, Mention, Strong, Text, joined
from bot.types import Clock
from bot.vocabulary import ROLES, Invocation

_UNSENT = (PageStatus.PENDING, PageStatus.SENDING)


@dataclass(frozen=True)
class TestPageRecord:
    """The newest test page to a role's current holder (sent to the details the role has
    now), and whether they acknowledged it.

    `deliveries` maps each channel, as stored (`slack_dm`, `email`, `push`; `channel_name`
    in `bot/paging/delivery.py` words them), to its result: `"sent"`, `"pending"` (not
    answered yet), `"failed: <reason>"` or `"unknown: <why>"` (attempted, answer lost)."""

    __test__ = False  # not a pytest class, whatever its name

    role: str
    name: str  # the person, as the page named them
    page_id: int
    sent_at: datetime
    sent_by: str  # a Slack user id (or a shell user)
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    deliveries: Mapping[str, str]


class TestPages:
    __test__ = False  # not a pytest class, whatever its name

    def __init__(
        self,
        store: PagingStore,
        people: People,
        notifiers: Sequence[Notifier],
        clock: Clock,
        wake: Callable[[], None],  # the page sender: a page was written
        responders: Callable[[], Awaitable[set[str]]],
    ) -> None:
        self._store = store
        self._people = people
        self._notifiers = notifiers
        self._clock = clock
        self._wake = wake
        self._responders = responders

    async def send(self, role: str | None, inv: Invocation) -> Reply:
        """A test page to whoever holds `role`, or (None) every role that has a holder."""
        if inv.actor not in await self._responders():
            raise UserError(
                "Only responders (the launch-gate owners, admins and `playbooks.responders` "
                "in lucia.yaml) send test pages."
            )
        if role is not None and role not in ROLES:
            raise UserError(f"`{role}` isn't a launch-gate role ({', '.join(ROLES)}).")
        owners = [e for e in await self._store.owners() if role is None or e.role.value == role]
        empty = [e.role.value for e in owners if e.contact is None]
        people = _people(owners)
        if not people:
            who = role or "<role>"
            where = role if role is not None else "any role in the launch-gate table"
            raise UserError(
                Text(
                    f"Nobody holds {where}, so there is nobody to test: ",
                    Code(f"/lucia owners set {who} @user"),
                    ".",
                )
            )
        now = self._clock()
        new = [await self._new_page(roles, contact, inv, now) for roles, contact in people]
        async with self._store.transaction() as tx:
            written = [await tx.add_page(page) for page in new]
        self._wake()
        items = [self._said(page, roles) for page, (roles, _) in zip(written, people, strict=True)]
        notes = []
        if empty:
            notes.append(
                Text(f"Nobody holds {', '.join(empty)}: ", Code("/lucia owners set <role> @user"))
            )
        if not any(self._ways(page) for page in written):
            return Noted(joined(" ", [*items, *notes]), warning=True)
        notes.append(
            Text(
                "No incident is opened and nothing escalates: each Acknowledge is recorded "
                "for the launch gate."
            )
        )
        return ItemList(Text(Strong("Test pages sent")), tuple(items), tuple(notes))

    async def latest(self) -> dict[str, TestPageRecord]:
        """Role → the newest test page to its current holder. A role nobody holds, or
        whose holder no test page has reached at their present details, is absent."""
        held = [e for e in await self._store.owners() if e.contact is not None]
        found = await self._store.latest_test_pages([e.contact for e in held if e.contact])
        records = {}
        for entry, stored in zip(held, found, strict=True):
            if stored is None:
                continue
            page, deliveries = stored
            records[entry.role.value] = TestPageRecord(
                role=entry.role.value,
                name=page.contact.name,
                page_id=page.id,
                sent_at=page.created_at,
                sent_by=page.created_by,
                acknowledged_at=page.acknowledged_at,
                acknowledged_by=page.acknowledged_by,
                deliveries=self._results(page, deliveries),
            )
        return records

    async def _new_page(
        self, roles: Sequence[str], contact: Contact, inv: Invocation, now: datetime
    ) -> NewPage:
        # The page keeps the name it was sent under (the table's, else Slack's profile).
        contact = replace(contact, name=(await self._people.contact(contact)).name)
        held = " and ".join(roles) if len(roles) < 3 else ", ".join(roles)
        return NewPage(
            incident_number=None,
            target=roles[0],
            contact=contact,
            message=to_markup((f"You hold {held} in the launch-gate table.",)),
            urgent=False,
            status=PageStatus.PENDING,
            due_at=now,
            created_at=now,
            created_by=inv.actor,
            test=True,
        )

    def _ways(self, page: Page) -> list[str]:
        """The channels that reach this page's person (the incident channel never does)."""
        message = page_message(page, None, Person(page.contact.name), None, ())
        return [n.channel for n in self._notifiers if n.reaches(page.contact, message)]

    def _said(self, page: Page, roles: Sequence[str]) -> Text:
        name = page.contact.name
        label = Strong(", ".join(roles))
        ways = self._ways(page)
        if not ways:
            return Text(
                label,
                f": ⚠️ {name} can't be reached: no way this bot has fits their contact "
                "details, so the page is recorded as failed (",
                Code("/lucia owners"),
                " shows what is missing).",
            )
        said = Text(label, f": {name} by {', '.join(channel_name(w) for w in ways)}")
        if page.contact.slack_user is None:
            said += Text(
                " ⚠️ no Slack user, so no Acknowledge button: it can't count for the gate (",
                Code(f"/lucia owners set {roles[0]} @user"),
                ")",
            )
        return said

    def _results(self, page: Page, stored: Mapping[str, Delivery]) -> dict[str, str]:
        """Each channel's result, in the notifiers' order; the channels of a page not sent
        yet that have no record are pending."""
        waiting = self._ways(page) if page.status in _UNSENT else []
        order = [n.channel for n in self._notifiers]
        channels = sorted(
            {*stored, *waiting}, key=lambda c: order.index(c) if c in order else len(order)
        )
        return {c: _result(stored[c]) if c in stored else "pending" for c in channels}


def check_acknowledger(page: Page, inv: Invocation) -> None:
    """Only the person a test page pages may acknowledge it: the click is their evidence."""
    user = page.contact.slack_user
    if user is not None and inv.actor != user:
        raise UserError(
            Text(
                "This test page is for ",
                Mention(user),
                ": only they can acknowledge it, since it shows that Lucia can reach them.",
            )
        )


def acknowledged(page: Page) -> Reply:
    """The answer to a test page's Acknowledge (`page` as it was before this click)."""
    if page.acknowledged_by is not None and page.acknowledged_at is not None:
        return Noted(
            Text(
                "This test page was already acknowledged by ",
                Mention(page.acknowledged_by),
                f" at {page.acknowledged_at:%Y-%m-%d %H:%M} UTC; it counts for the launch gate.",
            )
        )
    return Noted(
        "Test page acknowledged: it shows that Lucia can reach you, and it counts for the "
        "launch gate. It was only a test: no incident was opened or acknowledged."
    )


def _people(owners: Sequence[OwnerEntry]) -> list[tuple[list[str], Contact]]:
    """Each holder to page once, with the roles they hold under the same details."""
    found: dict[tuple[str | None, ...], tuple[list[str], Contact]] = {}
    for entry in owners:
        c = entry.contact
        if c is None:
            continue
        key = (c.person, c.slack_user, c.email, c.push_topic)
        found.setdefault(key, ([], c))[0].append(entry.role.value)
    return list(found.values())


def _result(delivery: Delivery) -> str:
    match delivery.status:
        case DeliveryStatus.SENT:
            return "sent"
        case DeliveryStatus.ATTEMPTING:
            return "pending"
        case DeliveryStatus.UNKNOWN:
            return delivery.detail  # "unknown: …", as stored
    return f"failed: {delivery.detail}"
