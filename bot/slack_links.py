"""Links into Slack, for words that leave it (an e-mail, a push) and for buttons in it: a
URL shape, shared by the Slack views and the notifiers, so neither imports the other."""

from __future__ import annotations

__all__ = ["channel_link"]


def channel_link(channel_id: str) -> str:
    """Opens the channel in the reader's Slack client (app or browser)."""
    return f"https://slack.com/app_redirect?channel={channel_id}"
