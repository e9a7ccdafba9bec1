"""`/admin/api/*`: the admin view's JSON, read-only, each request with its own
`Authorization: Bearer <Clerk session token>` (a cookie never authorises anything).

401 for no or a bad token, 403 for a good token of someone not allowed, each with a JSON
body saying which and each logged without the token. Every answer is `no-store`."""

from __future__ import annotations

__all__ = ["AdminApi", "AdminSources"]

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from bot import log_messages as msg
from bot.admission import AdmissionCheck, Admitted, Refused
from bot.alerts.ports import AlertStore
from bot.gate.ports import GateStore
from bot.incidents.model import Incident
from bot.incidents.ports import IncidentStore
from bot.paging.ports import PagingStore
from bot.postmortem.export import postmortem_json, postmortem_markdown, postmortem_view
from bot.postmortem.service import PostmortemService
from bot.status.page import PageView
from bot.status.service import StatusService

log = logging.getLogger(__name__)

_LIMIT = 100  # incidents and alert groups listed at most
Handler = Callable[[web.Request, Admitted], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class AdminSources:
    """What the admin view reads, each through a port of the core."""

    incidents: IncidentStore
    alerts: AlertStore
    paging: PagingStore
    gate: GateStore
    gate_phases: Sequence[str]
    status: StatusService
    postmortems: PostmortemService
    channels: frozenset[str]


class AdminApi:
    def __init__(
        self,
        sources: AdminSources | None,
        check: AdmissionCheck | None,
        headers: Mapping[str, str],
    ) -> None:
        self._sources = sources
        self._check = check  # None: the admin view is off
        self._headers = headers  # on every answer, refusals included

    def routes(self) -> list[web.RouteDef]:
        n = r"{number:\d{1,9}}"
        return [
            web.get("/admin/api/me", self._guarded(self.me)),
            web.get("/admin/api/incidents", self._guarded(self.incidents)),
            web.get(f"/admin/api/incidents/{n}", self._guarded(self.incident)),
            web.get(f"/admin/api/incidents/{n}/postmortem.md", self._guarded(self.markdown)),
            web.get(f"/admin/api/incidents/{n}/postmortem.json", self._guarded(self.json)),
            web.get("/admin/api/alerts", self._guarded(self.alerts)),
            web.get("/admin/api/owners", self._guarded(self.owners)),
            web.get("/admin/api/gate", self._guarded(self.gate)),
            web.get("/admin/api/status", self._guarded(self.status)),
            web.route("*", "/admin/api/{tail:.*}", self._guarded(self.unknown)),
        ]

    def _guarded(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            answer = await self._answer(request, handler)
            answer.headers.update(self._headers)
            answer.headers["Cache-Control"] = "no-store"
            return answer

        return guarded

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._check is None or self._sources is None:
            return _json({"error": "the admin view is off"}, 404)
        result = await self._check.admit(request.headers.get("Authorization"))
        if isinstance(result, Refused):
            log.warning(
                msg.ADMIN_REQUEST_REFUSED,
                extra={
                    "status": result.status,
                    "reason": result.reason,
                    "user": result.user,
                    "path": request.path,
                    "remote": request.remote,
                },
            )
            refusal = "unauthorized" if result.status == 401 else "forbidden"
            body = {"error": refusal, "reason": result.reason, "detail": result.detail}
            response = _json(body, result.status)
            if result.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="lucia-admin"'
            return response
        if request.method != "GET":
            return _json({"error": "the admin view is read-only"}, 405)
        return await handler(request, result)

    @property
    def _data(self) -> AdminSources:
        assert self._sources is not None  # _guarded answered 404 otherwise
        return self._sources

    async def me(self, _request: web.Request, who: Admitted) -> web.Response:
        return _json({"user": who.user, "session": who.session, "email": who.email})

    async def incidents(self, request: web.Request, _who: Admitted) -> web.Response:
        status = request.query.get("status", "open")
        if status not in ("open", "all"):
            return _json({"error": "status must be open or all"}, 400)
        found = await self._data.incidents.list(include_closed=status == "all", limit=_LIMIT)
        # Leads by the launch-gate table's names, as the postmortem names them.
        names = {
            o.contact.slack_user: o.contact.name
            for o in await self._data.paging.owners()
            if o.contact is not None and o.contact.slack_user
        }
        listed = [_incident(i) | {"lead_name": names.get(i.lead or "")} for i in found]
        return _json({"status": status, "incidents": listed})

    async def incident(self, request: web.Request, _who: Admitted) -> web.Response:
        number = int(request.match_info["number"])
        data = await self._data.postmortems.gather(number)
        if data is None:
            return _no_incident(number)
        view = postmortem_view(data)
        # The times as stored, beside the export's words (which name people for reading).
        extra = _incident(data.incident).items()
        view["incident"] |= {k: v for k, v in extra if k not in view["incident"]}
        return _json(view)

    async def markdown(self, request: web.Request, _who: Admitted) -> web.Response:
        number = int(request.match_info["number"])
        data = await self._data.postmortems.gather(number)
        if data is None:
            return _no_incident(number)
        return _download(postmortem_markdown(data), "text/markdown", f"INC-{number}-postmortem.md")

    async def json(self, request: web.Request, _who: Admitted) -> web.Response:
        number = int(request.match_info["number"])
        data = await self._data.postmortems.gather(number)
        if data is None:
            return _no_incident(number)
        return _download(postmortem_json(data), "application/json", f"INC-{number}-postmortem.json")

    async def alerts(self, _request: web.Request, _who: Admitted) -> web.Response:
        groups = await self._data.alerts.firing(_LIMIT)
        return _json(
            {
                "alerts": [
                    {
                        "id": g.id,
                        "key": g.key,
                        "title": g.title,
                        "level": g.level,
                        "project": g.project,
                        "environment": g.environment,
                        "count": g.count,
                        "first_seen": _iso(g.first_seen),
                        "last_seen": _iso(g.last_seen),
                        "incident": g.incident_number,
                        "url": g.url,
                        "synthetic": g.synthetic,
                    }
                    for g in groups
                ]
            }
        )

    async def owners(self, _request: web.Request, _who: Admitted) -> web.Response:
        owners = await self._data.paging.owners()
        refs = await self._data.paging.refs()
        rows = []
        for entry in owners:
            c = entry.contact
            rows.append(
                {
                    "role": str(entry.role),
                    "name": c.name if c else None,
                    "slack": c.slack_user if c else None,
                    "email": c.email if c else None,
                    "phone": c.phone if c else None,
                    "push_topic": c.push_topic if c else None,
                    "notes": entry.notes,
                    "updated_by": entry.updated_by,
                    "updated_at": _iso(entry.updated_at),
                    "gaps": entry.gaps(self._data.channels),
                }
            )
        references = [
            {"key": key, "value": value, "gap": "not set" if value is None else None}
            for key, value in refs.items()
        ]
        return _json({"owners": rows, "references": references})

    async def gate(self, _request: web.Request, _who: Admitted) -> web.Response:
        phases: list[dict[str, Any]] = []
        for phase in self._data.gate_phases:
            latest = await self._data.gate.evaluations(phase, 1)
            phases.append({"phase": phase, "evaluation": latest[-1].to_json() if latest else None})
        return _json({"phases": phases})

    async def status(self, _request: web.Request, _who: Admitted) -> web.Response:
        return _json(_status(await self._data.status.view()))

    async def unknown(self, request: web.Request, _who: Admitted) -> web.Response:
        return _json({"error": f"there is no {request.path}"}, 404)


def _json(body: Mapping[str, Any], status: int = 200) -> web.Response:
    response = web.json_response(body, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _no_incident(number: int) -> web.Response:
    return _json({"error": "not-found", "detail": f"there is no incident #{number}"}, 404)


def _download(text: str, content_type: str, filename: str) -> web.Response:
    return web.Response(
        text=text,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def _incident(i: Incident) -> dict[str, Any]:
    return {
        "number": i.number,
        "key": i.key,
        "title": i.title,
        "severity": i.severity.label,
        "status": i.status.value,
        "lead": i.lead,
        "created_at": _iso(i.created_at),
        "acknowledged_at": _iso(i.acknowledged_at),
        "mitigated_at": _iso(i.mitigated_at),
        "resolved_at": _iso(i.resolved_at),
    }


def _status(view: PageView) -> dict[str, Any]:
    return {
        "name": view.name,
        "url": view.url,
        "indicator": view.indicator,
        "description": view.description,
        "updated_at": _iso(view.updated_at),
        "components": [
            {
                "id": c.id,
                "name": c.config.name,
                "group": c.config.group,
                "state": c.state.value,
                "since": _iso(c.since),
                "uptime": c.uptime.percent,
            }
            for c in view.components
        ],
        "active": [
            {
                "id": p.id,
                "name": p.name,
                "status": str(p.status),
                "impact": p.impact,
                "created_at": _iso(p.created_at),
                "incident": p.incident_number,
                "components": dict(view.named(p.components)),
                "updates": [
                    {"status": str(u.status), "body": u.body, "at": _iso(u.created_at)}
                    for u in p.updates
                ],
            }
            for p in view.active
        ],
        "maintenances": [
            {
                "id": m.id,
                "name": m.name,
                "starts_at": _iso(m.starts_at),
                "ends_at": _iso(m.ends_at),
                "status": str(m.status(view.now)),
            }
            for m in view.maintenances
        ],
    }
