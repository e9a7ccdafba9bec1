"""The page as Statuspage's v2 JSON (`/api/v2/*.json`), field for field, so the tools that
read Atlassian pages (aggregators, menu-bar apps, the `se-v2.js` widget) read ours.

Ids are strings, times ISO 8601 with their offset. Configured groups are components too
(`group: true` with their members' ids; members carry `group_id`). `incidents` is always
there, empty or not: readers take a missing key for "unknown". Maintenances carry the
updates Statuspage writes by itself as a window starts and ends."""

from __future__ import annotations

__all__ = [
    "components_document",
    "incidents_document",
    "maintenances_document",
    "status_document",
    "summary_document",
]

from datetime import UTC, datetime, time
from typing import Any

from bot.status.model import (
    ComponentState,
    Maintenance,
    MaintenanceStatus,
    Phase,
    PublicIncident,
    PublicUpdate,
    worst,
)
from bot.status.page import WINDOW, ComponentView, PageView
from bot.web.status_links import PageSite, iso, maintenance_id, page_updated_at

Json = dict[str, Any]

# What Statuspage itself says when a maintenance window opens and closes.
_IN_PROGRESS = "Scheduled maintenance is currently in progress."
_COMPLETED = "The scheduled maintenance has been completed."


class _Document:
    def __init__(self, view: PageView, site: PageSite) -> None:
        self.view = view
        self.site = site
        self.by_id = {c.id: c for c in view.components}
        self.components = self._components()
        self.component_json = {c["id"]: c for c in self.components if not c["group"]}

    def page(self) -> Json:
        return {
            "id": self.site.page_id,
            "name": self.view.name,
            "url": self.site.url("/status"),
            "time_zone": "Etc/UTC",
            "updated_at": iso(page_updated_at(self.view)),
        }

    def status(self) -> Json:
        return {"indicator": self.view.indicator, "description": self.view.description}

    # -- components ---------------------------------------------------------------------

    def _components(self) -> list[Json]:
        found: list[Json] = []
        position = 0
        for group, members in self.view.groups():
            group_id = self.site.group_ids[group] if group is not None else None
            if group is not None and group_id is not None:
                position += 1
                found.append(self._group(group, group_id, members, position))
            for member in members:
                position += 1
                found.append(self._component(member, group_id, position))
        return found

    def _created(self, c: ComponentView) -> datetime:
        """When it was first watched; one watched before the window is known only to be
        older: the window's first day stands in (so the answer holds still all day)."""
        start = self.view.now - WINDOW
        first = c.first_seen or self.view.now
        if first <= start:
            return datetime.combine(start.astimezone(UTC).date(), time.min, UTC)
        return first

    def _component(self, c: ComponentView, group_id: str | None, position: int) -> Json:
        first_day = next((d.day for d in c.uptime.days if d.observed_minutes), None)
        created = self._created(c)
        return {
            "id": c.id,
            "name": c.config.name,
            "status": c.state.value,
            "created_at": iso(created),
            "updated_at": iso(c.since or created),
            "position": position,
            "description": c.config.description or None,
            "showcase": True,
            "start_date": first_day.isoformat() if first_day else None,
            "group_id": group_id,
            "page_id": self.site.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def _group(self, name: str, group_id: str, members: list[ComponentView], position: int) -> Json:
        created = [self._created(c) for c in members]
        updated = [c.since for c in members if c.since] or created
        return {
            "id": group_id,
            "name": name,
            "status": worst(c.state for c in members).value,
            "created_at": iso(min(created)),
            "updated_at": iso(max(updated)),
            "position": position,
            "description": None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": self.site.page_id,
            "group": True,
            "only_show_if_degraded": False,
            "components": [c.id for c in members],
        }

    def _named(self, ids: list[str]) -> list[Json]:
        return [self.component_json[c] for c in ids if c in self.component_json]

    # -- incidents ----------------------------------------------------------------------

    def incident(self, incident: PublicIncident) -> Json:
        oldest_first = list(reversed(incident.updates))
        monitoring = next((u for u in oldest_first if u.status is Phase.MONITORING), None)
        return {
            "id": str(incident.id),
            "name": incident.name,
            "status": incident.status.value,
            "impact": incident.impact,
            "created_at": iso(incident.created_at),
            "updated_at": iso(incident.updated_at),
            "monitoring_at": iso(monitoring.created_at) if monitoring else None,
            "resolved_at": iso(incident.resolved_at) if incident.resolved_at else None,
            "started_at": iso(incident.created_at),
            "shortlink": self.site.incident_link(incident.id),
            "page_id": self.site.page_id,
            "incident_updates": [
                self._update(u, oldest_first[:i]) for i, u in enumerate(oldest_first)
            ][::-1],
            "components": self._named(list(incident.components)),
        }

    def _update(self, update: PublicUpdate, earlier: list[PublicUpdate]) -> Json:
        return {
            "id": str(update.id),
            "status": update.status.value,
            "body": update.body,
            "incident_id": str(update.incident_id),
            "created_at": iso(update.created_at),
            "updated_at": iso(update.created_at),
            "display_at": iso(update.created_at),
            "affected_components": [
                self._affected(c, s, update, earlier) for c, s in update.components.items()
            ]
            or None,
            "deliver_notifications": True,
            "custom_tweet": None,
            "tweet_id": None,
        }

    def _affected(
        self, component: str, state: ComponentState, update: PublicUpdate, earlier: list[Any]
    ) -> Json:
        view = self.by_id.get(component)
        found: Json = {
            "code": component,
            "name": view.config.name if view else component,
            "new_status": state.value,
        }
        before = next(
            (u.components[component] for u in reversed(earlier) if component in u.components),
            view.state_before(update.created_at) if view else None,
        )
        if before is not None:  # a state the window doesn't know is left out, not guessed
            found["old_status"] = before.value
        return found

    # -- maintenance --------------------------------------------------------------------

    def maintenance(self, m: Maintenance) -> Json:
        status = m.status(self.view.now)
        mid = maintenance_id(m)
        updates = [(MaintenanceStatus.SCHEDULED, m.created_at, m.body)]
        if status is not MaintenanceStatus.SCHEDULED:
            # published after it had started ("now"): it was in progress from then on
            began = max(m.starts_at, m.created_at)
            updates.append((MaintenanceStatus.IN_PROGRESS, began, _IN_PROGRESS))
        if status is MaintenanceStatus.COMPLETED:
            updates.append((MaintenanceStatus.COMPLETED, max(m.ends_at, m.created_at), _COMPLETED))
        updated = updates[-1][1]
        return {
            "id": mid,
            "name": m.name,
            "status": status.value,
            "impact": "maintenance",
            "created_at": iso(m.created_at),
            "updated_at": iso(updated),
            "monitoring_at": None,
            "resolved_at": iso(m.ends_at) if status is MaintenanceStatus.COMPLETED else None,
            "started_at": iso(m.starts_at),
            "shortlink": self.site.maintenance_link(m),
            "page_id": self.site.page_id,
            "scheduled_for": iso(m.starts_at),
            "scheduled_until": iso(m.ends_at),
            "incident_updates": [
                {
                    "id": f"{mid}-{phase.value}",
                    "status": phase.value,
                    "body": body,
                    "incident_id": mid,
                    "created_at": iso(at),
                    "updated_at": iso(at),
                    "display_at": iso(at),
                    "affected_components": None,
                    "deliver_notifications": True,
                    "custom_tweet": None,
                    "tweet_id": None,
                }
                for phase, at, body in reversed(updates)
            ],
            "components": self._named(list(m.components)),
        }


def summary_document(view: PageView, site: PageSite) -> Json:
    doc = _Document(view, site)
    return {
        "page": doc.page(),
        "components": doc.components,
        "incidents": [doc.incident(i) for i in view.active],
        "scheduled_maintenances": [doc.maintenance(m) for m in view.maintenances],
        "status": doc.status(),
    }


def status_document(view: PageView, site: PageSite) -> Json:
    doc = _Document(view, site)
    return {"page": doc.page(), "status": doc.status()}


def components_document(view: PageView, site: PageSite) -> Json:
    doc = _Document(view, site)
    return {"page": doc.page(), "components": doc.components}


def incidents_document(view: PageView, site: PageSite, *, unresolved: bool = False) -> Json:
    """Every incident of the window, newest first (or only those still open)."""
    doc = _Document(view, site)
    chosen = view.active if unresolved else view.history
    return {"page": doc.page(), "incidents": [doc.incident(i) for i in chosen]}


def maintenances_document(view: PageView, site: PageSite) -> Json:
    """Upcoming and in progress (soonest first), then those completed in the window."""
    doc = _Document(view, site)
    chosen = [*view.maintenances, *view.finished]
    return {"page": doc.page(), "scheduled_maintenances": [doc.maintenance(m) for m in chosen]}
