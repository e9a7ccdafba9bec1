"""The alert message's buttons: Open incident, Acknowledge, Silence 1h."""

from __future__ import annotations

__all__ = ["register"]

from collections.abc import Callable
from datetime import timedelta

from slack_bolt.async_app import AsyncApp

from bot.alerts.commands import AcknowledgeNotice, OpenIncidentFromNotice, SilenceNotice
from bot.slack.dispatch import SlackDeps
from bot.slack.listeners.buttons import on_numbered_click
from bot.slack.views.ids import ALERT_ACK_ACTION, ALERT_OPEN_ACTION, ALERT_SILENCE_ACTION

SILENCE_BUTTON = timedelta(hours=1)


def register(app: AsyncApp, deps: SlackDeps) -> None:
    actions: dict[
        str, Callable[[int], AcknowledgeNotice | SilenceNotice | OpenIncidentFromNotice]
    ] = {
        ALERT_OPEN_ACTION: OpenIncidentFromNotice,
        ALERT_ACK_ACTION: AcknowledgeNotice,
        ALERT_SILENCE_ACTION: lambda notice: SilenceNotice(notice, SILENCE_BUTTON),
    }
    for action_id, command_for in actions.items():
        app.action(action_id)(on_numbered_click(deps, action_id, command_for))
