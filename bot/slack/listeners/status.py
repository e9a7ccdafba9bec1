"""A status page draft's preview: Publish and Cancel. Each is `DecideDraft` for the one
who clicks (only responders may; the service checks), and its answer replaces the
preview, so the buttons are gone once the draft is decided."""

from __future__ import annotations

__all__ = ["register"]

from slack_bolt.async_app import AsyncApp

from bot.slack.dispatch import SlackDeps
from bot.slack.listeners.buttons import on_numbered_click
from bot.slack.views.ids import STATUS_CANCEL_ACTION, STATUS_PUBLISH_ACTION
from bot.status.commands import DecideDraft


def register(app: AsyncApp, deps: SlackDeps) -> None:
    app.action(STATUS_PUBLISH_ACTION)(
        on_numbered_click(deps, STATUS_PUBLISH_ACTION, _publish, replace=True)
    )
    app.action(STATUS_CANCEL_ACTION)(
        on_numbered_click(deps, STATUS_CANCEL_ACTION, _cancel, replace=True)
    )


def _publish(draft_id: int) -> DecideDraft:
    return DecideDraft(draft_id, publish=True)


def _cancel(draft_id: int) -> DecideDraft:
    return DecideDraft(draft_id, publish=False)
