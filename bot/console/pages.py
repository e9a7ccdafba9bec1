"""Pages in the shell: each one shown in the terminal as its channel would have sent it,
and sent nowhere, unless the operator runs `lucia-bot shell --deliver`.

A stand-in keeps the real channel's name and reach, so `/lucia page` and `/lucia owners`
say what a real page would use; its result is stored as what it is, not sent
("push ✗ (not sent: …)"), so no timeline or postmortem claims a page went out.
"""

from __future__ import annotations

__all__ = ["NOT_SENT", "TerminalNotifier", "shown_in_terminal"]

from collections.abc import Callable, Sequence

from bot.errors import DeliveryFailed
from bot.paging.delivery import CHANNEL_NAMES
from bot.paging.plain import plain_lines, plain_title
from bot.paging.ports import Contact, Notifier, PageMessage

NOT_SENT = "not sent: `lucia-bot shell` delivers pages to its terminal; `--deliver` sends them"
_INDENT = "   "


class TerminalNotifier:
    """Stands in for one real notifier: reaches whom it reaches, prints what it would send."""

    def __init__(self, real: Notifier, say: Callable[[str], None]) -> None:
        self.channel = real.channel
        self._real = real
        self._say = say

    def __repr__(self) -> str:
        return f"TerminalNotifier({self._real!r})"

    def reaches(self, contact: Contact, page: PageMessage) -> bool:
        return self._real.reaches(contact, page)

    async def send(self, contact: Contact, page: PageMessage) -> str:
        self._say(_page_text(contact, page, self.channel))
        raise DeliveryFailed(NOT_SENT)


def shown_in_terminal(
    real: Sequence[Notifier], say: Callable[[str], None]
) -> list[TerminalNotifier]:
    """A stand-in for each notifier the settings built (`build_runtime`'s choice)."""
    return [TerminalNotifier(notifier, say) for notifier in real]


def _page_text(contact: Contact, page: PageMessage, channel: str) -> str:
    """The page in plain text, as e-mail and push render it, under who and how."""
    kind = "urgent page" if page.urgent else "page"
    how = CHANNEL_NAMES.get(channel, channel)
    body = [plain_title(page), *plain_lines(page).splitlines()]
    return "\n".join(
        [f"📟 {kind} to {contact.name} by {how} ({NOT_SENT})", *(_INDENT + line for line in body)]
    )
