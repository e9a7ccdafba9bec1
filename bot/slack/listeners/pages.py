"""The Acknowledge button of a page's DM."""

from __future__ import annotations

__all__ = ["register"]

from slack_bolt.async_app import AsyncApp

from bot.incidents.commands import AcknowledgePage
from bot.slack.blocks import PAGE_ACK_ACTION
from bot.slack.dispatch import SlackDeps
from bot.slack.listeners.buttons import on_numbered_click


def register(app: AsyncApp, deps: SlackDeps) -> None:
    app.action(PAGE_ACK_ACTION)(on_numbered_click(deps, PAGE_ACK_ACTION, AcknowledgePage))
