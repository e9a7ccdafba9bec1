"""What the status commands answer beyond the shared reply shapes: the page as it reads
now, and a draft's preview with Publish and Cancel."""

from __future__ import annotations

__all__ = ["StatusNow", "StatusPreview", "StatusReply"]

from dataclasses import dataclass

from bot.incidents.replies import Reply
from bot.status.page import PageView


@dataclass(frozen=True)
class StatusNow:
    page: PageView


@dataclass(frozen=True)
class StatusPreview:
    """What would go to the public page; nothing has yet."""

    draft_id: int
    title: str
    # The public text, (a maintenance's window,) then each component's state as it will read.
    lines: tuple[str, ...]


StatusReply = Reply | StatusNow | StatusPreview
