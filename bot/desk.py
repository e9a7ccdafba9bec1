"""Where every `/lucia` command is answered, whichever front it came from."""

from __future__ import annotations

__all__ = ["Desk"]

from bot.alerts.service import AlertService
from bot.incidents.commands import (
    AlertCommand,
    Command,
    LiftSilence,
    ListAlerts,
    NoticeAction,
    SilenceAlerts,
)
from bot.incidents.replies import Reply
from bot.incidents.service import IncidentService, Invocation

_ALERT_COMMANDS = (ListAlerts, SilenceAlerts, LiftSilence, NoticeAction)


class Desk:
    def __init__(self, incidents: IncidentService, alerts: AlertService) -> None:
        self.incidents = incidents
        self.alerts = alerts

    async def run(self, command: Command, inv: Invocation) -> Reply:
        if isinstance(command, _ALERT_COMMANDS):
            alert_command: AlertCommand = command
            return await self.alerts.run(alert_command, inv)
        return await self.incidents.run(command, inv)
