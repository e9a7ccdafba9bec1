"""Where every `/lucia` command is answered, whichever front it came from.

Each service declares the command types it answers (`handles`); the desk hands a command
to the one service that declared its type. Every command of the grammar must have exactly
one: a gap or a double claim is a programming error, raised when the desk is built.
"""

from __future__ import annotations

__all__ = ["Answer", "Desk"]

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, get_args

from bot.alerts.replies import AlertReply
from bot.alerts.service import AlertService
from bot.gate.replies import GateHistory, GateReport
from bot.gate.service import GateService
from bot.grammar import Command
from bot.incidents.service import IncidentService
from bot.paging.service import PagingService
from bot.playbooks.service import PlaybookService
from bot.postmortem.service import PostmortemService
from bot.status.replies import StatusNow, StatusPreview
from bot.status.service import StatusService
from bot.vocabulary import Invocation

# Every reply shape a command may get, whichever domain answers it.
Answer = AlertReply | GateReport | GateHistory | StatusNow | StatusPreview
_Run = Callable[[Any, Invocation], Awaitable[Answer]]


class _Handler(Protocol):
    @property
    def handles(self) -> tuple[type, ...]: ...

    @property
    def run(self) -> _Run: ...


class Desk:
    def __init__(
        self,
        incidents: IncidentService,
        alerts: AlertService,
        paging: PagingService,
        playbooks: PlaybookService,
        postmortems: PostmortemService,
        gate: GateService,
        status: StatusService,
        *,
        ran: Callable[[], None] = lambda: None,
    ) -> None:
        self._ran = ran  # after every command: what it stored may be due now
        self.incidents = incidents
        self.alerts = alerts
        self.paging = paging
        self.playbooks = playbooks
        self.postmortems = postmortems
        self.gate = gate
        self.status = status
        self._routes = _routes((incidents, alerts, paging, playbooks, postmortems, gate, status))

    async def run(self, command: Command, inv: Invocation) -> Answer:
        route = self._routes.get(type(command))
        if route is None:
            raise TypeError(f"{type(command).__name__} is not a /lucia command")
        try:
            return await route(command, inv)
        finally:
            self._ran()


def _routes(services: tuple[_Handler, ...]) -> dict[type, _Run]:
    """Command type → the `run` of the one service that handles it."""
    routes: dict[type, _Run] = {}
    for service in services:
        for kind in service.handles:
            if kind in routes:
                raise TypeError(f"{kind.__name__} is handled by two services")
            routes[kind] = service.run
    unhandled = [kind.__name__ for kind in get_args(Command) if kind not in routes]
    if unhandled:
        raise TypeError(f"no service handles {', '.join(unhandled)}")
    return routes
