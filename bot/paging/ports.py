"""What paging needs from the outside: ways to reach a person."""

from __future__ import annotations

__all__ = [
    "Announce",
    "Contact",
    "NewPage",
    "Notifier",
    "PageMessage",
    "PagingStore",
    "PagingTransaction",
    "ProfileNames",
    "Unstarted",
]

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.incidents.model import Incident, TimelineEvent
from bot.paging.words import Person, Words

if TYPE_CHECKING:
    from bot.paging.model import Delivery, Escalation, OwnerEntry, Page, PageStatus


@dataclass(frozen=True)
class Contact:
    """A person as a page reaches them: a copy of their launch-gate row when paged."""

    name: str
    slack_user: str | None = None
    email: str | None = None
    phone: str | None = None
    push_topic: str | None = None

    @property
    def person(self) -> str:
        """Who this is, whichever way they are reached: for the throttle."""
        return self.slack_user or self.email or self.push_topic or self.phone or self.name

    def reachable_by(self, channels: Collection[str]) -> bool:
        """Some page channel of these ("slack_dm", "email", …) fits their details."""
        return bool(
            (self.slack_user and {"slack_dm", "slack_mention"} & set(channels))
            or (self.email and "email" in channels)
            or (self.push_topic and "push" in channels)
        )


# Shows a stored timeline event in the incident's channel.
Announce = Callable[[TimelineEvent], Awaitable[None]]


@dataclass(frozen=True)
class PageMessage:
    """One page as structure, the people in it by name and Slack id: each channel renders
    it for where it goes (a mention in Slack, the person's name in an e-mail or a push)."""

    page_id: int
    person: Person  # whom it pages
    title: Words  # "SEV1 INC-7: Checkout crashes", or "Page from " + the sender
    lines: tuple[Words, ...]  # under the title: what the sender wrote, how to acknowledge
    urgent: bool  # SEV1/SEV2: the loudest a channel can be
    incident_number: int | None = None
    incident_channel: str | None = None  # Slack channel id: the mention there, the link to it
    test: bool = False  # a test page: shown as one, never as an alarm


class ProfileNames(Protocol):
    """Names from people's chat profiles (Slack's `users.info`), for a Slack user id."""

    async def name_of(self, slack_user: str) -> str | None:
        """The profile's name; None when there is none or the chat service can't be asked
        (never raises for that: a page goes out with the id instead)."""


class Notifier(Protocol):
    """One way to reach a person. `send` returns a receipt (the provider's message id)
    or raises `DeliveryFailed` with a reason a human can act on."""

    channel: str  # "email", "push", "slack_dm", "slack_mention"

    def reaches(self, contact: Contact, page: PageMessage) -> bool: ...

    async def send(self, contact: Contact, page: PageMessage) -> str: ...


class PagingTransaction(Protocol):
    """One unit of work on escalations and pages (rows claimed here stay locked to it)."""

    async def incidents_to_start(self, now: datetime, limit: int) -> Sequence[Unstarted]:
        """Incidents with no escalation row yet whose channel exists (or that won't get
        one), oldest first, locked to this transaction."""

    async def start(self, escalation: Escalation) -> bool:
        """False when another process started this incident's escalation first."""

    async def revivable(self, limit: int) -> Sequence[tuple[Escalation, Incident]]:
        """Chains stopped before a reopen, and `none` ones whose severity changed since."""

    async def claim_due(self, now: datetime, limit: int) -> Sequence[tuple[Escalation, Incident]]:
        """Active escalations due by `now` whose incident nobody has acknowledged."""

    async def advance(self, escalation: Escalation) -> None:
        """Store its chain, round, step, due and start times, and status."""

    async def answered(self, limit: int) -> Sequence[tuple[Escalation, Incident]]:
        """Active escalations whose incident was acknowledged or resolved since."""

    async def cancel_pages(self, incident_number: int, at: datetime) -> int: ...

    async def owner(self, role: str) -> OwnerEntry | None: ...

    async def last_paged(self, person: str, since: datetime) -> datetime | None:
        """When an escalation last paged (or plans to page) this person, since `since`."""

    async def add_page(self, page: NewPage) -> Page: ...

    async def claim_pages(self, now: datetime, lease_until: datetime, limit: int) -> Sequence[Page]:
        """Pages due by `now`, and pages whose sender's lease ran out, leased to the caller
        until `lease_until` (the lease's token). A pending escalation page of an incident
        acknowledged or resolved since is never claimed; a page left mid-send always is,
        so that it is finished."""

    async def renew_page(self, page_id: int, held_until: datetime, until: datetime) -> bool:
        """Extend the lease to `until` if the caller still holds it (`held_until`); False
        when the page was finished or another sender took it over."""

    async def incident(self, number: int) -> Incident | None: ...

    async def delivered(self, page_id: int) -> dict[str, Delivery]:
        """Each channel this page has a record for: attempted, sent, failed or unknown."""

    async def attempt(self, page_id: int, channel: str, at: datetime) -> bool:
        """Record that `channel` is about to be sent; False if it has a record already
        (another sender attempted it): then it must not be sent."""

    async def mark_unknown(self, page_id: int, channel: str, detail: str) -> bool:
        """An attempt whose sender stopped before recording the answer: unknown, for
        good (`detail` says why). False if its answer was recorded meanwhile."""

    async def record_delivery(
        self, page_id: int, channel: str, ok: bool, detail: str, at: datetime
    ) -> None:
        """The answer to an attempt (also when it was marked unknown meanwhile: the
        answer is the better truth)."""

    async def finish_page(
        self, page_id: int, status: PageStatus, at: datetime, held_until: datetime
    ) -> bool:
        """Finish a page the caller still holds the lease of; False if it doesn't."""

    async def acknowledge_page(self, page_id: int, by: str, at: datetime) -> Page | None: ...

    async def append(self, event: TimelineEvent) -> None: ...


class PagingStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[PagingTransaction]: ...

    async def owners(self) -> Sequence[OwnerEntry]: ...

    async def load_owners(self, entries: Sequence[OwnerEntry], at: datetime) -> list[str]:
        """Rows from lucia.yaml: a role whose entry changed in the file is replaced (and
        audited); one unchanged since the last load keeps what Slack set. Changed roles."""

    async def set_owner(self, entry: OwnerEntry, actor: str, at: datetime) -> OwnerEntry:
        """Replace one role's row and write the audit log entry, in one transaction."""

    async def refs(self) -> dict[str, str | None]: ...

    async def load_refs(self, values: Mapping[str, str | None], at: datetime) -> list[str]: ...

    async def set_ref(self, key: str, value: str, actor: str, at: datetime) -> None: ...

    async def latest_test_pages(
        self, contacts: Sequence[Contact]
    ) -> list[tuple[Page, dict[str, Delivery]] | None]:
        """For each contact, the newest test page sent to exactly its Slack user, e-mail
        and push topic, with each channel's record; None when there is none."""


@dataclass(frozen=True)
class Unstarted:
    """An incident paging hasn't looked at: what its chain is built from."""

    incident: Incident
    requested_roles: tuple[str, ...]  # from its routing rule's page_requested event


@dataclass(frozen=True)
class NewPage:
    incident_number: int | None
    target: str
    contact: Contact
    message: str  # as typed, in Slack's markup (`bot/paging/words.py`): people kept by id
    urgent: bool
    status: PageStatus
    due_at: datetime
    created_at: datetime
    created_by: str
    test: bool = False  # a test page (`bot/paging/test_pages.py`)

    @property
    def person(self) -> str:
        """Who this is, whichever way they were asked for: for the throttle."""
        return self.contact.person
