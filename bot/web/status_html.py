"""The page as HTML (`/status`, `/status/history`): server-rendered, readable without
JavaScript, on a phone and by a screen reader. Every state is said in words beside its
colour, each component's 90 days have a text alternative, and every colour used for text
or a bar has at least 4.5:1 contrast with white (`STATE_COLOURS`, checked by the tests).

This module turns a `PageView` into the few plain values the Jinja2 templates in
`templates/` print; the templates decide nothing."""

from __future__ import annotations

__all__ = ["BACKGROUND", "STATE_COLOURS", "TEXT_COLOURS", "StatusHtml", "uptime_words"]

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from bot.status.model import (
    ComponentState,
    Maintenance,
    MaintenanceStatus,
    PublicIncident,
    worst,
)
from bot.status.page import ComponentView, PageView
from bot.status.uptime import RULE, DayBar, Uptime
from bot.web.status_links import PageSite

TEMPLATES = Path(__file__).parent / "templates"

# The CSS colour of each state (and of a day without data), used for its words, its dot,
# its day bars and, under white text, the banner. Each has ≥ 4.5:1 contrast with white.
STATE_COLOURS = {
    ComponentState.OPERATIONAL.value: "#1a7f37",
    ComponentState.UNDER_MAINTENANCE.value: "#0969da",
    ComponentState.DEGRADED_PERFORMANCE.value: "#9a6700",
    ComponentState.PARTIAL_OUTAGE.value: "#bc4c00",
    ComponentState.MAJOR_OUTAGE.value: "#b91c1c",
    "no_data": "#6b7280",
}
BACKGROUND = "#ffffff"
TEXT_COLOURS = {"text": "#1f2328", "muted": "#59636e", "link": "#0550ae"}


def when(at: datetime) -> str:
    """`2 Dec 2026, 20:15 UTC`."""
    at = at.astimezone(UTC)
    return f"{at.day} {at:%b %Y, %H:%M} UTC"


def _day(bar: DayBar) -> str:
    return f"{bar.day.day} {bar.day:%b %Y}"


def _percent(value: float) -> str:
    """Cut, not rounded, to two decimals: 99.999 % is 99.99 %, never 100.00 %."""
    return f"{math.floor(value * 100) / 100:.2f} %"


def uptime_words(uptime: Uptime) -> str:
    percent = uptime.percent
    return "No data" if percent is None else f"{_percent(percent)} uptime"


@dataclass(frozen=True)
class _Bar:
    state: str  # a key of STATE_COLOURS
    title: str


def _bars(uptime: Uptime) -> list[_Bar]:
    bars = []
    for bar in uptime.days:
        if bar.worst is None or bar.uptime is None:
            bars.append(_Bar("no_data", f"{_day(bar)}: no data"))
        else:
            words = f"{bar.worst.words}, {_percent(100 * bar.uptime)} up"
            bars.append(_Bar(bar.worst.value, f"{_day(bar)}: {words}"))
    return bars


_TALLY_ORDER = [
    (ComponentState.MAJOR_OUTAGE, "with a major outage"),
    (ComponentState.PARTIAL_OUTAGE, "with a partial outage"),
    (ComponentState.DEGRADED_PERFORMANCE, "with degraded performance"),
    (ComponentState.UNDER_MAINTENANCE, "under maintenance"),
    (ComponentState.OPERATIONAL, "operational"),
]


def _bars_label(component: ComponentView) -> str:
    """What a screen reader says for the 90 bars: the uptime, then how many days were what
    ("Engine, last 90 days: 99.75 % uptime. 1 day with a major outage, 59 days operational,
    30 days without data.")."""
    days = component.uptime.days
    counts = [(sum(1 for d in days if d.worst is state), words) for state, words in _TALLY_ORDER]
    counts.append((sum(1 for d in days if d.worst is None), "without data"))
    parts = [f"{n} {'day' if n == 1 else 'days'} {words}" for n, words in counts if n]
    return (
        f"{component.config.name}, last {len(days)} days: {uptime_words(component.uptime)}. "
        f"{', '.join(parts)}."
    )


def _component(component: ComponentView) -> dict[str, Any]:
    return {
        "id": component.id,
        "name": component.config.name,
        "description": component.config.description,
        "state": component.state.value,
        "state_words": component.state.words,
        "since": when(component.since) if component.since else None,
        "bars": _bars(component.uptime),
        "bars_label": _bars_label(component),
        "uptime": uptime_words(component.uptime),
        "days": len(component.uptime.days),
    }


def _incident(incident: PublicIncident, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": incident.id,
        "name": incident.name,
        "phase": incident.status.value.capitalize(),
        "resolved": incident.resolved_at is not None,
        "started": when(incident.created_at),
        "started_at": incident.created_at.isoformat(),
        "resolved_when": when(incident.resolved_at) if incident.resolved_at else None,
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "affects": [
            {"name": names.get(c, c), "state": s.value, "state_words": s.words}
            for c, s in incident.components.items()
        ],
        "updates": [
            {
                "phase": u.status.value.capitalize(),
                "body": u.body,
                "when": when(u.created_at),
                "at": u.created_at.isoformat(),
                "states": [f"{names.get(c, c)}: {s.words}" for c, s in u.components.items()],
            }
            for u in incident.updates
        ],
    }


_MAINTENANCE_WORDS = {
    MaintenanceStatus.SCHEDULED: "Scheduled",
    MaintenanceStatus.IN_PROGRESS: "In progress",
    MaintenanceStatus.COMPLETED: "Completed",
}


def _maintenance(m: Maintenance, names: dict[str, str], now: datetime) -> dict[str, Any]:
    status = m.status(now)
    return {
        "id": m.id,
        "name": m.name,
        "body": m.body,
        "status": status.value,
        "status_words": _MAINTENANCE_WORDS[status],
        "starts": when(m.starts_at),
        "starts_at": m.starts_at.isoformat(),
        "ends": when(m.ends_at),
        "ends_at": m.ends_at.isoformat(),
        "affects": [names.get(c, c) for c in m.components],
    }


class StatusHtml:
    def __init__(self, templates: Path = TEMPLATES) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._status = self._env.get_template("status.html.j2")
        self._history = self._env.get_template("status_history.html.j2")

    def _common(self, view: PageView, site: PageSite) -> dict[str, Any]:
        return {
            "name": view.name,
            "colours": STATE_COLOURS,
            "background": BACKGROUND,
            "text_colours": TEXT_COLOURS,
            "updated": when(view.updated_at) if view.updated_at else None,
            "updated_at": view.updated_at.isoformat() if view.updated_at else None,
            "feed": site.url("/history.atom"),
        }

    def page(self, view: PageView, site: PageSite) -> bytes:
        names = {c.id: c.config.name for c in view.components}
        groups = [
            {
                "name": group,
                "state_words": worst(c.state for c in members).words,
                "state": worst(c.state for c in members).value,
                "components": [_component(c) for c in members],
            }
            for group, members in view.groups()
        ]
        return self._status.render(
            **self._common(view, site),
            worst=view.worst.value,
            description=view.description,
            active=[_incident(i, names) for i in view.active],
            maintenances=[_maintenance(m, names, view.now) for m in view.maintenances],
            groups=groups,
            rule=RULE,
            resolved_recently=sum(1 for i in view.history if i.resolved_at is not None),
        ).encode()

    def history(self, view: PageView, site: PageSite) -> bytes:
        names = {c.id: c.config.name for c in view.components}
        maintenances = [*view.maintenances, *view.finished]
        return self._history.render(
            **self._common(view, site),
            incidents=[_incident(i, names) for i in view.history],
            maintenances=[_maintenance(m, names, view.now) for m in maintenances],
        ).encode()
