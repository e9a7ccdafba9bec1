"""A postmortem from `PostmortemData`: one view (plain, JSON-ready values), rendered as
Markdown by the Jinja2 template beside this file (a team edits it), or dumped as JSON.

Deterministic: every list arrives in a total order, times are UTC ISO strings, and nothing
depends on when the export runs — the same incident exports byte-identically twice.
Key times come from the incident's history (`key_times.py`), people appear by name
(`names.py`), and durations as people say them (`bot.durations.spoken_duration`).
"""

from __future__ import annotations

__all__ = ["TEMPLATE", "postmortem_json", "postmortem_markdown", "postmortem_view"]

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2

from bot.durations import spoken_duration
from bot.incidents.model import EventKind
from bot.postmortem.key_times import key_times
from bot.postmortem.model import PostmortemData
from bot.postmortem.names import Names
from bot.vocabulary import SYSTEM_ACTOR

TEMPLATE = Path(__file__).with_name("postmortem.md.j2")


def postmortem_view(data: PostmortemData) -> dict[str, Any]:
    incident = data.incident
    names = Names(data.names)
    times = key_times(data)
    declared = times.declared
    participants = names.people(
        {e.actor for e in data.timeline if e.actor != SYSTEM_ACTOR}
        | {p for p in (incident.lead, incident.acknowledged_by) if p}
        | ({incident.opened_by} - {SYSTEM_ACTOR})
    )
    pinned_away = {str(e.data.get("ts")) for e in data.timeline if e.kind is EventKind.UNPINNED}
    return {
        "incident": {
            "number": incident.number,
            "key": incident.key,
            "title": names.text(incident.title),
            "severity": incident.severity.label,
            "status": incident.status.value,
            "lead": names.maybe(incident.lead),
            "opened_by": names.person(incident.opened_by),
            "description": names.text(incident.description),
            "summary": names.text(incident.summary),
            "channel": incident.channel_name,
        },
        "participants": participants,
        "times": {
            "declared": _iso(declared),
            "first_alert": _iso(times.first_alert),
            "first_page": _iso(times.first_page),
            "acknowledged": _iso(times.acknowledged),
            "mitigated": _iso(times.mitigated),
            "resolved": _iso(times.resolved),
            "reopenings": [
                {"resolved": _iso(r.resolved), "reopened": _iso(r.reopened)}
                for r in times.reopenings
            ],
        },
        "durations": {
            name: None if end is None else spoken_duration(end - declared)
            for name, end in (
                ("to_acknowledge", times.acknowledged),
                ("to_mitigate", times.mitigated),
                ("to_resolve", times.resolved),
            )
        },
        "timeline": [
            {
                "at": _iso(e.at),
                "kind": e.kind.value,
                "actor": names.person(e.actor),
                "text": names.text(e.text),
                "unpinned": e.kind is EventKind.PINNED and str(e.data.get("ts")) in pinned_away,
            }
            for e in data.timeline
        ],
        "alerts": [
            {
                "key": a.key,
                "title": a.title,
                "project": a.project,
                "environment": a.environment,
                "count": a.count,
                "notified": a.notified,
                "first_seen": _iso(a.first_seen),
                "url": a.url,
            }
            for a in data.alerts
        ],
        "pages": [
            {
                "person": names.text(p.person),  # as paged (older rows: `<@U…>`)
                "target": names.person(p.target),
                "at": _iso(p.created_at),
                "attempted_at": _iso(p.attempted_at),
                "status": p.status,
                "channels": [
                    {"channel": c, "ok": ok, "detail": detail} for c, ok, detail in p.channels
                ],
                "acknowledged_by": names.maybe(p.acknowledged_by),
            }
            for p in data.pages
        ],
        "runs": [
            {
                "id": r.id,
                "playbook": r.playbook,
                "service": r.service,
                "state": r.state,
                "requested_by": names.person(r.requested_by),
                "approved_by": names.maybe(r.approved_by),
                "result": names.text(r.result),
                "steps": [
                    {
                        "index": i + 1,
                        "kind": kind,
                        "state": state,
                        "detail": detail,
                        "seconds": None if seconds is None else round(seconds, 1),
                        "took": None
                        if seconds is None
                        else spoken_duration(timedelta(seconds=seconds)),
                    }
                    for i, kind, state, detail, seconds in r.steps
                ],
            }
            for r in data.runs
        ],
        "followups": [
            {
                "id": f.id,
                "text": names.text(f.text),
                "owner": names.maybe(f.owner),
                "created_by": names.person(f.created_by),
                "created_at": _iso(f.created_at),
                "done_at": _iso(f.done_at),
                "done_by": names.maybe(f.done_by),
            }
            for f in data.followups
        ],
    }


def postmortem_markdown(data: PostmortemData, template: Path = TEMPLATE) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template.parent),
        autoescape=False,  # noqa: S701 - Markdown, not HTML; cells are escaped by `cell`
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = _cell
    env.filters["thousands"] = lambda n: f"{n:,}"
    return env.get_template(template.name).render(postmortem_view(data))


def postmortem_json(data: PostmortemData) -> str:
    return json.dumps(postmortem_view(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _iso(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else None


def _cell(value: object) -> str:
    """A value safe inside one Markdown table cell: one line, no column breaks."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")
