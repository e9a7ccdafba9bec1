"""The Acknowledge button of a page's DM, and a playbook run's Confirm / Cancel / Approve."""

from __future__ import annotations

__all__ = ["register"]

from functools import partial

from slack_bolt.async_app import AsyncApp

from bot.paging.commands import AcknowledgePage
from bot.playbooks.commands import DecideRun
from bot.slack.dispatch import SlackDeps
from bot.slack.listeners.buttons import on_numbered_click
from bot.slack.views.ids import PAGE_ACK_ACTION, RUN_ACTIONS


def register(app: AsyncApp, deps: SlackDeps) -> None:
    app.action(PAGE_ACK_ACTION)(on_numbered_click(deps, PAGE_ACK_ACTION, AcknowledgePage))
    for decision, action_id in RUN_ACTIONS.items():
        app.action(action_id)(on_numbered_click(deps, action_id, partial(_decide, decision)))


def _decide(decision: str, run_id: int) -> DecideRun:
    return DecideRun(run_id, decision)
