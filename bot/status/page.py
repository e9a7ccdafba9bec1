"""The page as it reads at a moment: each component's current state (its last published
state, or under maintenance while a maintenance covers it), the roll-up, the incidents
still open, the maintenance coming, and each component's 90 days. Built from stored data
only; the web routes and `/lucia status` render it."""

from __future__ import annotations

__all__ = ["ComponentView", "PageView", "page_view"]

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import StatusComponent, StatusPageConfig
from bot.status.model import (
    ComponentChange,
    ComponentState,
    Maintenance,
    MaintenanceStatus,
    PublicIncident,
    worst,
)
from bot.status.ports import PageData
from bot.status.uptime import Uptime, uptime

WINDOW = timedelta(days=90)

# Statuspage's page indicator and its sentence, from the worst current state.
_ROLL_UP = {
    ComponentState.OPERATIONAL: ("none", "All Systems Operational"),
    ComponentState.UNDER_MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    ComponentState.DEGRADED_PERFORMANCE: ("minor", "Minor Service Outage"),
    ComponentState.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    ComponentState.MAJOR_OUTAGE: ("critical", "Major System Outage"),
}


@dataclass(frozen=True)
class ComponentView:
    config: StatusComponent
    state: ComponentState
    since: datetime | None  # when it last changed (the first record: when watched)
    uptime: Uptime
    changes: tuple[ComponentChange, ...] = ()  # its history in the window, oldest first

    @property
    def first_seen(self) -> datetime | None:
        """Its oldest record in the window (the window's start for an older component)."""
        return self.changes[0].at if self.changes else None

    def state_before(self, at: datetime) -> ComponentState | None:
        """Its published state just before `at`; None when the window doesn't know it."""
        earlier = [c for c in self.changes if c.at < at]
        return earlier[-1].state if earlier else None

    @property
    def id(self) -> str:
        return self.config.id


@dataclass(frozen=True)
class PageView:
    name: str
    url: str | None
    now: datetime
    updated_at: datetime | None
    components: tuple[ComponentView, ...]
    active: tuple[PublicIncident, ...]  # unresolved, newest first
    history: tuple[PublicIncident, ...]  # every incident of the window, newest first
    maintenances: tuple[Maintenance, ...]  # scheduled or in progress, soonest first
    finished: tuple[Maintenance, ...] = ()  # completed within the window, latest first

    @property
    def worst(self) -> ComponentState:
        return worst(c.state for c in self.components)

    @property
    def indicator(self) -> str:
        return _ROLL_UP[self.worst][0]

    @property
    def description(self) -> str:
        return _ROLL_UP[self.worst][1]

    def named(self, states: Mapping[str, ComponentState]) -> list[tuple[str, ComponentState]]:
        """Component states (an incident's, an update's) by the components' names, in the
        page's order (a stored JSON object may keep its keys in another); an id the page
        no longer lists keeps its id."""
        names = {c.id: c.config.name for c in self.components}
        ordered = [*(c for c in names if c in states), *(c for c in states if c not in names)]
        return [(names.get(c, c), states[c]) for c in ordered]

    def name_of(self, component: str) -> str:
        return next((c.config.name for c in self.components if c.id == component), component)

    def groups(self) -> list[tuple[str | None, list[ComponentView]]]:
        """Components in their groups, in config order (a group where its first is)."""
        grouped: dict[str | None, list[ComponentView]] = {}
        for component in self.components:
            grouped.setdefault(component.config.group, []).append(component)
        return list(grouped.items())


def page_view(config: StatusPageConfig, data: PageData, now: datetime) -> PageView:
    in_progress = [m for m in data.maintenances if m.status(now) is MaintenanceStatus.IN_PROGRESS]
    components = []
    for component in config.components:
        changes = data.changes.get(component.id, ())
        state = changes[-1].state if changes else ComponentState.OPERATIONAL
        if state is ComponentState.OPERATIONAL and any(
            component.id in m.components for m in in_progress
        ):
            state = ComponentState.UNDER_MAINTENANCE
        components.append(
            ComponentView(
                component,
                state,
                changes[-1].at if changes else None,
                uptime(changes, now),
                tuple(changes),
            )
        )
    coming = sorted(
        (m for m in data.maintenances if m.status(now) is not MaintenanceStatus.COMPLETED),
        key=lambda m: m.starts_at,
    )
    return PageView(
        name=config.name,
        url=config.url,
        now=now,
        updated_at=data.updated_at,
        components=tuple(components),
        active=tuple(i for i in data.incidents if i.resolved_at is None),
        history=tuple(data.incidents),
        maintenances=tuple(coming),
        finished=tuple(
            sorted(
                (m for m in data.maintenances if m.status(now) is MaintenanceStatus.COMPLETED),
                key=lambda m: m.ends_at,
                reverse=True,
            )
        ),
    )
