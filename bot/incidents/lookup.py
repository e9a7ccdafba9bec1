"""The incident a command names: `#N`, or else the one whose channel it was typed in."""

from __future__ import annotations

__all__ = ["named_incident"]

from bot.errors import CommandError, IncidentNotFound, UserError
from bot.incidents.model import Incident
from bot.incidents.ports import IncidentStore
from bot.vocabulary import Invocation

_WHICH = "Which incident? Give #N, or run it in the incident's channel."


async def named_incident(
    store: IncidentStore, number: int | None, inv: Invocation, *, usage: str | None = None
) -> Incident:
    """`usage`: the command's form, said with the question when neither names one."""
    if number is None and inv.channel_id:
        found = await store.find_by_channel(inv.channel_id)
        if found is not None:
            return found
    if number is None:
        raise CommandError(_WHICH, usage) if usage is not None else UserError(_WHICH)
    incident = await store.get(number)
    if incident is None:
        raise IncidentNotFound(f"There is no incident #{number}.")
    return incident
