"""The desk's routing table comes from what each service declares it handles: every command
of the grammar has exactly one service, and a gap or a double claim stops the desk."""

from __future__ import annotations

from typing import get_args

import pytest

from bot.alerts.service import AlertService
from bot.desk import Desk
from bot.gate.service import GateService
from bot.grammar import Command
from bot.incidents.service import IncidentService
from bot.paging.service import PagingService
from bot.playbooks.service import PlaybookService
from bot.postmortem.service import PostmortemService
from bot.status.service import StatusService

SERVICES = (
    IncidentService,
    AlertService,
    PagingService,
    PlaybookService,
    PostmortemService,
    GateService,
    StatusService,
)


def test_every_command_of_the_grammar_has_exactly_one_service() -> None:
    declared = [kind for service in SERVICES for kind in service.handles]
    assert len(declared) == len(set(declared))
    assert set(declared) == set(get_args(Command))


def test_a_command_no_service_handles_stops_the_desk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PlaybookService, "handles", ())
    with pytest.raises(
        TypeError, match="no service handles ListPlaybooks, ShowDeploys, RunPlaybook, DecideRun"
    ):
        Desk(*SERVICES)  # the classes: the desk reads only what they declare


def test_a_command_two_services_claim_stops_the_desk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PagingService, "handles", PagingService.handles + AlertService.handles)
    with pytest.raises(TypeError, match="ListAlerts is handled by two services"):
        Desk(*SERVICES)
