"""What the public status page's things are called outside, and where they are: the page's
id, each group's component id, each incident's and maintenance's id and link, tag URIs for
the feed, and times as ISO 8601 with their offset. The JSON, the feed and the HTML all name
a thing through here, so they name it the same."""

from __future__ import annotations

__all__ = ["PageSite", "iso", "maintenance_id", "page_updated_at"]

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bot.status.model import Maintenance
from bot.status.page import PageView

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def iso(at: datetime) -> str:
    """`2026-12-02T20:15:00.000+00:00`, Statuspage's form."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


def page_updated_at(view: PageView) -> datetime:
    """The newest thing the page knows: a published update or maintenance, else when its
    components were first watched; never the clock, so an unchanged page keeps its ETag."""
    seen = [view.updated_at, *(c.since for c in view.components)]
    times = [t for t in seen if t is not None]
    return max(times) if times else view.now


def maintenance_id(maintenance: Maintenance) -> str:
    """Maintenances are numbered apart from incidents; the `m` keeps their ids apart too
    (readers put incidents and scheduled maintenances in one list)."""
    return f"m{maintenance.id}"


def _slug(text: str) -> str:
    return _NOT_SLUG.sub("-", text.lower()).strip("-")


@dataclass(frozen=True)
class PageSite:
    """The page's base URL ("" when none is known: links are then relative) and the ids
    that don't come from the database."""

    base: str
    page_id: str
    group_ids: dict[str, str] = field(default_factory=dict)  # group name → component id

    @classmethod
    def of(cls, view: PageView, public_url: str | None) -> PageSite:
        base = (view.url or public_url or "").rstrip("/")
        taken = {c.id for c in view.components}
        groups: dict[str, str] = {}
        for name, _members in view.groups():
            if name is None:
                continue
            candidate = stem = "group-" + (_slug(name) or "unnamed")
            n = 1
            while candidate in taken:
                n += 1
                candidate = f"{stem}-{n}"
            taken.add(candidate)
            groups[name] = candidate
        return cls(base, _slug(view.name) or "status", groups)

    def url(self, path: str) -> str:
        return self.base + path

    def incident_link(self, incident_id: int) -> str:
        return self.url(f"/status/history#incident-{incident_id}")

    def maintenance_link(self, maintenance: Maintenance) -> str:
        return self.url(f"/status/history#maintenance-{maintenance.id}")

    def tag(self, minted: datetime, specific: str) -> str:
        """An RFC 4151 tag URI: the page's host and the day the thing was made, so it never
        changes (the stored ids come after)."""
        authority = urlsplit(self.base).hostname if self.base else None
        return f"tag:{authority or self.page_id},{minted.astimezone(UTC):%Y-%m-%d}:{specific}"
