"""Paging's one door: escalation chains run as rows with due times (`escalations.py`),
pages delivered through every channel a person has (`delivery.py`), pages sent by hand
(`manual.py`), test pages for the launch gate (`test_pages.py`, as `test_pages`) and the
launch-gate table and references (`owners.py`)."""

from __future__ import annotations

__all__ = ["PagingService"]

from collections.abc import Callable, Sequence
from typing import ClassVar, get_args

from bot.config import LuciaConfig
from bot.incidents.ports import IncidentStore
from bot.incidents.replies import Reply
from bot.incidents.service import IncidentService
from bot.paging import commands as cmd
from bot.paging.delivery import PageSender
from bot.paging.escalations import Escalations
from bot.paging.manual import ManualPages
from bot.paging.owners import OwnersTable
from bot.paging.people import People
from bot.paging.ports import Announce, Notifier, PagingStore, ProfileNames
from bot.paging.test_pages import TestPages
from bot.types import Clock
from bot.vocabulary import Invocation


class PagingService:
    handles: ClassVar[tuple[type, ...]] = get_args(cmd.PagingCommand)

    def __init__(
        self,
        store: PagingStore,
        incidents: IncidentService,
        incident_store: IncidentStore,
        notifiers: Sequence[Notifier],
        config: LuciaConfig,
        clock: Clock,
        announce: Announce,  # shows a stored timeline event in the incident channel
        *,
        profiles: ProfileNames | None = None,  # Slack profiles, when Slack is configured
        wake: Callable[[], None] = lambda: None,  # run the page sender now
    ) -> None:
        people = People(store, profiles)
        self._escalations = Escalations(store, config, clock, announce, wake)
        self._sender = PageSender(store, notifiers, people, config.paging, clock, announce)
        self._manual = ManualPages(store, people, incidents, incident_store, notifiers, clock, wake)
        self._owners = OwnersTable(store, people, config, clock, {n.channel for n in notifiers})
        # The launch gate's: `send(role, invocation)` and `latest()`.
        self.test_pages = TestPages(store, people, notifiers, clock, wake, self._owners.responders)

    async def escalate(self) -> None:
        """The chains: stops, starts, restarts and due steps. Sending is `send_pages`, in a
        flight of its own, so a slow SMTP server never holds an acknowledgement's stop."""
        await self._escalations.run()

    async def send_pages(self) -> int:
        """Every due page, one claimed at a time."""
        return await self._sender.send_pages()

    async def responders(self) -> set[str]:
        """Who may run playbooks: the launch-gate owners, admins and configured responders."""
        return await self._owners.responders()

    async def load_config(self) -> None:
        """lucia.yaml's owners and references into the database: the copy paging reads."""
        await self._owners.load_config()

    async def run(self, command: cmd.PagingCommand, inv: Invocation) -> Reply:
        match command:
            case cmd.PageSomeone():
                return await self._manual.page(command, inv)
            case cmd.AcknowledgePage(page_id=page_id):
                return await self._manual.acknowledge(page_id, inv)
            case cmd.ShowOwners():
                return await self._owners.show_owners()
            case cmd.SetOwner():
                return await self._owners.set_owner(command, inv)
            case cmd.ShowRefs():
                return await self._owners.show_refs()
            case cmd.SetRef():
                return await self._owners.set_ref(command, inv)
        raise AssertionError(f"unhandled paging command {command!r}")
