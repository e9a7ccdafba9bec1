"""The App Home tab: what is open right now, and the commands."""

from __future__ import annotations

__all__ = ["home_view"]

from slack_sdk.models.views import View

from bot.incidents.replies import Listing
from bot.slack.views.replies import help_message, listing


def home_view(open_incidents: Listing) -> View:
    return View(type="home", blocks=[*listing(open_incidents).blocks, help_message().blocks[0]])
