"""The page's history as an Atom 1.0 feed (`/history.atom`): one entry per published
update of every incident of the window, and one per maintenance, newest first.

An entry's id is a tag URI made of the page's host, the day the thing was made and its
stored id (`tag:status.lucia.example,2026-12-02:incident/4/update/9`): a reader that saw
it once never shows it as new again. Each links to its place on `/status/history`."""

from __future__ import annotations

__all__ = ["history_atom"]

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from bot.status.model import Maintenance, PublicIncident, PublicUpdate
from bot.status.page import PageView
from bot.web.status_links import PageSite, iso, page_updated_at

ATOM = "http://www.w3.org/2005/Atom"
_FEED_MINTED = datetime(2026, 1, 1, tzinfo=UTC)  # the feed's own id: the same for ever


def history_atom(view: PageView, site: PageSite) -> bytes:
    names = {c.id: c.config.name for c in view.components}
    entries: list[tuple[datetime, ET.Element]] = []
    for incident in view.history:
        for update in incident.updates:
            entries.append((update.created_at, _update_entry(incident, update, names, site)))
    for maintenance in [*view.maintenances, *view.finished]:
        entries.append((maintenance.created_at, _maintenance_entry(maintenance, names, site)))
    entries.sort(key=lambda e: e[0], reverse=True)

    feed = ET.Element("feed", {"xmlns": ATOM, "xml:lang": "en"})
    _text(feed, "id", site.tag(_FEED_MINTED, "history"))
    _text(feed, "title", f"{view.name} status history")
    _text(feed, "subtitle", f"Incidents and maintenance published on the {view.name} status page")
    _link(feed, "alternate", site.url("/status/history"), "text/html")
    _link(feed, "self", site.url("/history.atom"), "application/atom+xml")
    newest = [entries[0][0]] if entries else []
    _text(feed, "updated", iso(max([page_updated_at(view), *newest])))
    author = ET.SubElement(feed, "author")
    _text(author, "name", view.name)
    for _at, entry in entries:
        feed.append(entry)
    ET.indent(feed)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _update_entry(
    incident: PublicIncident, update: PublicUpdate, names: dict[str, str], site: PageSite
) -> ET.Element:
    entry = ET.Element("entry")
    _text(entry, "id", site.tag(update.created_at, f"incident/{incident.id}/update/{update.id}"))
    _text(entry, "title", f"{incident.name}: {update.status.value.capitalize()}")
    _text(entry, "updated", iso(update.created_at))
    _text(entry, "published", iso(update.created_at))
    _link(entry, "alternate", site.incident_link(incident.id), "text/html")
    ET.SubElement(entry, "category", {"term": update.status.value})
    lines = [update.body]
    if update.components:
        lines.append(
            "Affected: "
            + "; ".join(f"{names.get(c, c)}: {s.words}" for c, s in update.components.items())
        )
    _text(entry, "content", "\n\n".join(lines), type="text")
    return entry


def _maintenance_entry(m: Maintenance, names: dict[str, str], site: PageSite) -> ET.Element:
    entry = ET.Element("entry")
    _text(entry, "id", site.tag(m.created_at, f"maintenance/{m.id}"))
    _text(entry, "title", f"Scheduled maintenance: {m.name}")
    _text(entry, "updated", iso(m.created_at))
    _text(entry, "published", iso(m.created_at))
    _link(entry, "alternate", site.maintenance_link(m), "text/html")
    ET.SubElement(entry, "category", {"term": "maintenance"})
    starts, ends = m.starts_at.astimezone(UTC), m.ends_at.astimezone(UTC)
    window = f"{starts:%Y-%m-%d %H:%M} to {ends:%Y-%m-%d %H:%M} UTC"
    lines = [m.body, window]
    if m.components:
        lines.append("Affected: " + ", ".join(names.get(c, c) for c in m.components))
    _text(entry, "content", "\n\n".join(lines), type="text")
    return entry


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> None:
    ET.SubElement(parent, tag, attrs).text = text


def _link(parent: ET.Element, rel: str, href: str, media_type: str) -> None:
    ET.SubElement(parent, "link", {"rel": rel, "href": href, "type": media_type})
