"""Routing: which alerts only post, and which open an incident and page whom.

The first rule in `lucia.yaml` whose every condition matches decides; no match means post
only. The decision is stored on the alert group in the transaction that creates it
(`route_state = pending`), so a restart can't lose an incident that an alert must open.
`IncidentRouter` then opens it — once, even if it runs twice: the incident remembers
the alert group — and keeps the incident's timeline told of what the alert does next.
"""

from __future__ import annotations

__all__ = ["IncidentRouter", "route_for"]

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot import log_messages as msg
from bot.alerts.model import AlertGroup, AlertSignal, Outcome
from bot.alerts.ports import AlertStore
from bot.config import AlertMatch, AlertRoute
from bot.incidents.model import Incident
from bot.incidents.service import IncidentService
from bot.types import Clock, UserId
from bot.vocabulary import SYSTEM_ACTOR, Severity

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)


def route_for(signal: AlertSignal, routes: Sequence[AlertRoute]) -> AlertRoute | None:
    return next((route for route in routes if _matches(route.match, signal)), None)


def _matches(match: AlertMatch, signal: AlertSignal) -> bool:
    fields = {
        "resource": (match.resource, signal.resource),
        "level": (match.level, signal.level),
        "project": (match.project, signal.project),
        "environment": (match.environment, signal.environment),
        "rule": (match.rule, signal.rule),
    }
    for wanted, actual in fields.values():
        if wanted and actual.lower() not in {w.lower() for w in wanted}:
            return False
    return all(signal.tags.get(key) == value for key, value in match.tags.items())


class IncidentRouter:
    def __init__(
        self,
        store: AlertStore,
        incidents: IncidentService,
        clock: Clock,
        note_every: timedelta = timedelta(minutes=5),
    ) -> None:
        self._store = store
        self._incidents = incidents
        self._clock = clock
        self._note_every = note_every

    async def open_pending(self) -> int:
        """Open the incident of every alert group whose route asks for one."""
        now = self._clock()
        async with self._store.transaction() as tx:
            groups = await tx.claim_routes(now, stale_before=now - LEASE, limit=20)
        for group in groups:
            await self.open_for(group)
        return len(groups)

    async def open_for(self, group: AlertGroup, opened_by: UserId = SYSTEM_ACTOR) -> Incident:
        """The incident of one alert group, with its route's severity and roles to page:
        by the router, or by someone's click on the alert message."""
        incident = await self._incidents.open_for_alert(
            alert_group_id=group.id,
            title=group.title,
            severity=Severity(group.route_severity or Severity.SEV2.value),
            description=_describe(group),
            page=tuple(r for r in (group.route_page or "").split(",") if r),
            opened_by=opened_by,
        )
        async with self._store.transaction() as tx:
            await tx.route_done(group, incident.number)
        log.info(
            msg.ALERT_OPENED_INCIDENT,
            extra={"alert_group": group.id, "incident": incident.number},
        )
        return incident

    async def tell_incidents(self, changes: Sequence[tuple[AlertGroup, Outcome]]) -> None:
        """What linked alerts did: each resolve, and repeats at most every `note_every`."""
        now = self._clock()
        for group, outcome in changes:
            if group.incident_number is None:
                continue
            if outcome is Outcome.RESOLVED:
                text = f"Sentry resolved the alert: {group.title} (×{group.count:,})"
            elif outcome is Outcome.REPEAT and self._due(group, now):
                text = (
                    f"The alert keeps firing: ×{group.count:,} since {group.first_seen:%H:%M} UTC"
                )
            else:
                continue
            async with self._store.transaction() as tx:
                await tx.noted(group, now)
            await self._incidents.note_alert(
                group.incident_number, text, {"alert_group": group.id, "count": group.count}
            )

    def _due(self, group: AlertGroup, now: datetime) -> bool:
        return group.noted_at is None or now - group.noted_at >= self._note_every


def _describe(group: AlertGroup) -> str:
    parts = [f"Sentry alert: {group.title}"]
    where = ", ".join(x for x in (group.project, group.environment) if x)
    if where:
        parts.append(f"Where: {where}")
    if group.rule:
        parts.append(f"Rule: {group.rule}")
    if group.url:
        parts.append(group.url)
    return "\n".join(parts)
