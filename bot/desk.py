"""Where every `/lucia` command is answered, whichever front it came from."""

from __future__ import annotations

__all__ = ["Desk"]

from collections.abc import Callable

from bot.alerts.commands import AlertCommand, LiftSilence, ListAlerts, NoticeAction, SilenceAlerts
from bot.alerts.service import AlertService
from bot.grammar import Command
from bot.incidents.replies import Reply
from bot.incidents.service import IncidentService
from bot.paging.commands import (
    AcknowledgePage,
    PageSomeone,
    PagingCommand,
    SetOwner,
    SetRef,
    ShowOwners,
    ShowRefs,
)
from bot.paging.service import PagingService
from bot.playbooks.commands import (
    DecideRun,
    ListPlaybooks,
    PlaybookCommand,
    RunPlaybook,
    ShowDeploys,
)
from bot.playbooks.service import PlaybookService
from bot.postmortem.commands import (
    AddFollowUp,
    ExportPostmortem,
    FinishFollowUp,
    ListFollowUps,
    PostmortemCommand,
)
from bot.postmortem.service import PostmortemService
from bot.vocabulary import Invocation

_ALERT_COMMANDS = (ListAlerts, SilenceAlerts, LiftSilence, NoticeAction)
_PAGING_COMMANDS = (PageSomeone, AcknowledgePage, ShowOwners, SetOwner, ShowRefs, SetRef)
_PLAYBOOK_COMMANDS = (ListPlaybooks, ShowDeploys, RunPlaybook, DecideRun)
_POSTMORTEM_COMMANDS = (ExportPostmortem, AddFollowUp, ListFollowUps, FinishFollowUp)


class Desk:
    def __init__(
        self,
        incidents: IncidentService,
        alerts: AlertService,
        paging: PagingService,
        playbooks: PlaybookService,
        postmortems: PostmortemService,
        *,
        ran: Callable[[], None] = lambda: None,
    ) -> None:
        self._ran = ran  # after every command: what it stored may be due now
        self.incidents = incidents
        self.alerts = alerts
        self.paging = paging
        self.playbooks = playbooks
        self.postmortems = postmortems

    async def run(self, command: Command, inv: Invocation) -> Reply:
        try:
            return await self._route(command, inv)
        finally:
            self._ran()

    async def _route(self, command: Command, inv: Invocation) -> Reply:
        if isinstance(command, _ALERT_COMMANDS):
            alert_command: AlertCommand = command
            return await self.alerts.run(alert_command, inv)
        if isinstance(command, _POSTMORTEM_COMMANDS):
            postmortem_command: PostmortemCommand = command
            return await self.postmortems.run(postmortem_command, inv)
        if isinstance(command, _PLAYBOOK_COMMANDS):
            playbook_command: PlaybookCommand = command
            return await self.playbooks.run(playbook_command, inv)
        if isinstance(command, _PAGING_COMMANDS):
            paging_command: PagingCommand = command
            return await self.paging.run(paging_command, inv)
        return await self.incidents.run(command, inv)
