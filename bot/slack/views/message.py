"""A Slack message as our views make it: its text and its Block Kit blocks."""

from __future__ import annotations

__all__ = ["Message"]

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block


@dataclass(frozen=True)
class Message:
    text: str  # the notification and fallback text
    blocks: Sequence[Block] = ()

    def blocks_json(self) -> list[dict[str, Any]] | None:
        """The blocks as the Web API takes them, None for a text-only message.

        Raises SlackObjectFormationError for a block past one of Slack's limits."""
        return [block.to_dict() for block in self.blocks] or None
