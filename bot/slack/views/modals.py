"""The forms that open an incident and post an update to one."""

from __future__ import annotations

__all__ = ["declare_modal", "update_modal"]

import json

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.command_text import MAX_TEXT
from bot.incidents.commands import MAX_TITLE
from bot.incidents.lifecycle import WORKING_STATUSES
from bot.incidents.model import Incident
from bot.slack.views.ids import DECLARE_CALLBACK, UPDATE_CALLBACK
from bot.slack.views.layout import plain
from bot.vocabulary import Severity

_MODAL_TITLE = 24  # Slack's limit for a modal's title


def _option(label: str, value: str) -> Option:
    return Option(text=plain(label), value=value)


def declare_modal(severity: Severity | None, origin_channel: str | None) -> View:
    initial = severity or Severity.SEV3
    return View(
        type="modal",
        callback_id=DECLARE_CALLBACK,
        private_metadata=json.dumps({"origin_channel_id": origin_channel}),
        title=plain("Open an incident"),
        submit=plain("Open"),
        close=plain("Cancel"),
        blocks=[
            InputBlock(
                block_id="title_block",
                label=plain("What is happening?"),
                element=PlainTextInputElement(action_id="title_input", max_length=MAX_TITLE),
            ),
            InputBlock(
                block_id="severity_block",
                label=plain("Severity"),
                element=StaticSelectElement(
                    action_id="severity_select",
                    options=[_option(s.label, s.value) for s in Severity],
                    initial_option=_option(initial.label, initial.value),
                ),
            ),
            InputBlock(
                block_id="description_block",
                optional=True,
                label=plain("Description"),
                element=PlainTextInputElement(
                    action_id="description_input", multiline=True, max_length=MAX_TEXT
                ),
            ),
            InputBlock(
                block_id="responders_block",
                optional=True,
                label=plain("Responders to invite"),
                element=UserMultiSelectElement(action_id="responders_select"),
            ),
        ],
    )


def update_modal(incident: Incident, origin_channel: str | None) -> View:
    keep = _option(f"Keep ({incident.status.value})", "keep")
    others = [_option(s.value, s.value) for s in WORKING_STATUSES if s is not incident.status]
    return View(
        type="modal",
        callback_id=UPDATE_CALLBACK,
        private_metadata=json.dumps(
            {"number": incident.number, "origin_channel_id": origin_channel}
        ),
        title=plain(f"Update {incident.key}"[:_MODAL_TITLE]),
        submit=plain("Post update"),
        close=plain("Cancel"),
        blocks=[
            InputBlock(
                block_id="status_block",
                label=plain("Status"),
                element=StaticSelectElement(
                    action_id="status_select", options=[keep, *others], initial_option=keep
                ),
            ),
            InputBlock(
                block_id="text_block",
                label=plain("What's new?"),
                element=PlainTextInputElement(
                    action_id="text_input", multiline=True, max_length=MAX_TEXT
                ),
            ),
        ],
    )
