"""What the public status page says: components and their states, public incidents and
their updates, scheduled maintenance. Nothing here is internal: a public incident has its
own name and text, written by whoever published it, and carries no severity."""

from __future__ import annotations

__all__ = [
    "ComponentChange",
    "ComponentState",
    "Draft",
    "Maintenance",
    "MaintenanceStatus",
    "Phase",
    "PublicIncident",
    "PublicUpdate",
    "impact_of",
    "worst",
]

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.types import JSONValue, UserId


class ComponentState(enum.StrEnum):
    """Statuspage's component states, mildest first."""

    OPERATIONAL = "operational"
    UNDER_MAINTENANCE = "under_maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"

    @property
    def words(self) -> str:
        return _WORDS[self]

    @classmethod
    def parse(cls, text: str) -> ComponentState | None:
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        return _ALIASES.get(key)


_WORDS = {
    ComponentState.OPERATIONAL: "Operational",
    ComponentState.UNDER_MAINTENANCE: "Under maintenance",
    ComponentState.DEGRADED_PERFORMANCE: "Degraded performance",
    ComponentState.PARTIAL_OUTAGE: "Partial outage",
    ComponentState.MAJOR_OUTAGE: "Major outage",
}
_ALIASES = {
    **{state.value: state for state in ComponentState},
    "up": ComponentState.OPERATIONAL,
    "ok": ComponentState.OPERATIONAL,
    "degraded": ComponentState.DEGRADED_PERFORMANCE,
    "partial": ComponentState.PARTIAL_OUTAGE,
    "major": ComponentState.MAJOR_OUTAGE,
    "down": ComponentState.MAJOR_OUTAGE,
    "outage": ComponentState.MAJOR_OUTAGE,
    "maintenance": ComponentState.UNDER_MAINTENANCE,
}
_ORDER = list(ComponentState)


def worst(states: Iterable[ComponentState]) -> ComponentState:
    return max(states, key=_ORDER.index, default=ComponentState.OPERATIONAL)


def impact_of(states: Iterable[ComponentState]) -> str:
    """Statuspage's incident impact, from the component states published (never from the
    internal severity): none, minor, major or critical."""
    match worst(states):
        case ComponentState.MAJOR_OUTAGE:
            return "critical"
        case ComponentState.PARTIAL_OUTAGE:
            return "major"
        case ComponentState.DEGRADED_PERFORMANCE:
            return "minor"
        case _:
            return "none"


class Phase(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class PublicUpdate:
    id: int
    incident_id: int
    status: Phase
    body: str
    created_at: datetime
    created_by: UserId
    components: Mapping[str, ComponentState] = field(default_factory=dict)


@dataclass(frozen=True)
class PublicIncident:
    id: int
    name: str
    status: Phase
    impact: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    incident_number: int | None  # the internal incident it was published from
    components: Mapping[str, ComponentState]  # as last published
    updates: tuple[PublicUpdate, ...] = ()  # newest first


class MaintenanceStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass(frozen=True)
class Maintenance:
    id: int
    name: str
    body: str
    components: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    created_by: UserId

    def status(self, now: datetime) -> MaintenanceStatus:
        """By the clock: it starts and ends on time by itself."""
        if now < self.starts_at:
            return MaintenanceStatus.SCHEDULED
        if now < self.ends_at:
            return MaintenanceStatus.IN_PROGRESS
        return MaintenanceStatus.COMPLETED


@dataclass(frozen=True)
class ComponentChange:
    """A component's published state from `at` on (the history uptime is computed from)."""

    component: str
    state: ComponentState
    at: datetime


@dataclass(frozen=True)
class Draft:
    """What a publish would put on the page, shown before it goes out."""

    id: int
    action: str  # "publish", "update", "resolve", "maintenance"
    payload: Mapping[str, JSONValue]
    created_by: UserId
    created_at: datetime
    incident_number: int | None
