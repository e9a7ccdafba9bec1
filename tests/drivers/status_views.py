"""A status page as it reads at a moment, made by hand for the renderers' tests: the page
config, what the store would hold, and `page_view` over them."""

from __future__ import annotations

__all__ = ["AT", "incident", "maintenance", "page"]

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from bot.config import StatusComponent, StatusPageConfig
from bot.status.model import (
    ComponentChange,
    ComponentState,
    Maintenance,
    Phase,
    PublicIncident,
    PublicUpdate,
)
from bot.status.page import PageView, page_view
from bot.status.ports import PageData

AT = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def incident(
    name: str = "Payments fail",
    states: Mapping[str, ComponentState] | None = None,
    updates: Sequence[tuple[Phase, str]] = ((Phase.INVESTIGATING, "Payments fail"),),
    number: int = 1,
) -> PublicIncident:
    """An open public incident; `updates` oldest first, a minute apart."""
    states = states if states is not None else {"engine": ComponentState.MAJOR_OUTAGE}
    made = [
        PublicUpdate(i + 1, number, phase, body, AT + timedelta(minutes=i), "U01ALICE00", states)
        for i, (phase, body) in enumerate(updates)
    ]
    return PublicIncident(
        id=number,
        name=name,
        status=made[-1].status,
        impact="critical",
        created_at=AT,
        updated_at=made[-1].created_at,
        resolved_at=None,
        incident_number=number,
        components=states,
        updates=tuple(reversed(made)),
    )


def maintenance(
    name: str = "Database upgrade", body: str = "", starts_in: float = 2, hours: float = 2
) -> Maintenance:
    starts = AT + timedelta(hours=starts_in)
    return Maintenance(
        1,
        name,
        body or name,
        ("engine", "admin"),
        starts,
        starts + timedelta(hours=hours),
        AT,
        "U01ALICE00",
    )


def page(
    incidents: Sequence[PublicIncident] = (),
    maintenances: Sequence[Maintenance] = (),
    components: Sequence[StatusComponent] | None = None,
    now: datetime = AT + timedelta(hours=1),
) -> PageView:
    components = (
        components
        if components is not None
        else [
            StatusComponent(id="engine", name="Engine (API)", group="Platform"),
            StatusComponent(id="admin", name="Admin", group="Platform"),
        ]
    )
    changes: dict[str, list[ComponentChange]] = {
        c.id: [ComponentChange(c.id, ComponentState.OPERATIONAL, AT - timedelta(days=1))]
        for c in components
    }
    for found in incidents:
        for component, state in found.components.items():
            changes.setdefault(component, []).append(ComponentChange(component, state, AT))
    data = PageData(changes, list(incidents), list(maintenances), AT)
    return page_view(StatusPageConfig(name="Lucia", components=list(components)), data, now)
