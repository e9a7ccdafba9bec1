"""Whether an incident's escalation would reach anyone at all, said when it opens.

A SEV1 opened with nobody to page must not look like any other incident: the answer and
the timeline say so, with what to do.
"""

from __future__ import annotations

__all__ = ["PagingReach"]

from collections.abc import Collection, Sequence

from bot.config import LuciaConfig
from bot.paging.model import build_chain
from bot.paging.ports import PagingStore
from bot.vocabulary import Severity


class PagingReach:
    def __init__(self, config: LuciaConfig, store: PagingStore, channels: Collection[str]):
        self._config = config
        self._store = store
        self._channels = frozenset(channels)

    async def gap(self, severity: Severity, requested: Sequence[str] = ()) -> str | None:
        """None when someone on the chain for `severity` can be reached; else what's wrong."""
        chain = build_chain(self._config.escalation.get(severity), requested)
        roles = {role for step in chain.steps for role in step.roles}
        if not roles:
            return (
                f"Nobody will be paged: lucia.yaml has no escalation for {severity.label} "
                f"(`escalation:` → `{severity.value}:`), and no routing rule named anyone."
            )
        holders = [e for e in await self._store.owners() if e.role.value in roles]
        if not any(e.contact for e in holders):
            return (
                "Nobody will be paged: no owners are set for "
                f"{', '.join(sorted(roles))} — `/lucia owners` shows the table."
            )
        if not any(e.contact and e.contact.reachable_by(self._channels) for e in holders):
            return (
                "Nobody will be paged: the owners on this incident's chain have no way to be "
                "reached here (no Slack user, or e-mail/push not set up) — `/lucia owners`."
            )
        return None
