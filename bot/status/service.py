"""`StatusService`: what the public page says, and every change to it as a draft first.

A change is checked and kept as a draft, shown with Publish and Cancel; only a confirmed
draft is published (once, whoever clicks twice), and the internal incident's timeline
records who published what. Severity never reaches the page: the impact comes from the
component states published. Every publish purges the page from Cloudflare's cache when
a purge is configured; a failed purge is said to the publisher.
"""

from __future__ import annotations

__all__ = ["PAGE_PATHS", "StatusService"]

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, get_args

from bot.config import StatusPageConfig
from bot.errors import CachePurgeFailed, CommandError, UserError
from bot.incidents.lookup import named_incident
from bot.incidents.model import EventKind, Incident, TimelineEvent
from bot.incidents.ports import IncidentStore
from bot.incidents.replies import Noted
from bot.status import commands as cmd
from bot.status.model import ComponentState, Draft, Maintenance, Phase, PublicIncident
from bot.status.page import WINDOW, PageView, page_view
from bot.status.ports import CachePurge, StatusStore
from bot.status.replies import StatusNow, StatusPreview, StatusReply
from bot.text import Text, stored_text
from bot.types import Clock, JSONValue
from bot.vocabulary import Invocation

# What a publish changes, relative to the page's base URL (all of it is purged).
PAGE_PATHS = (
    "/status",
    "/status/history",
    "/history.atom",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
)
MAX_NAME = 120
_FORM = cmd.USAGE["statuspage"]


class StatusService:
    handles: ClassVar[tuple[type, ...]] = get_args(cmd.StatusCommand)

    def __init__(
        self,
        config: StatusPageConfig,
        store: StatusStore,
        incidents: IncidentStore,
        purge: CachePurge | None,
        base_url: str | None,
        responders: Callable[[], Awaitable[set[str]]],
        clock: Clock,
        show: Callable[[TimelineEvent], Awaitable[None]],  # the event in the incident channel
    ) -> None:
        self._config = config
        self._store = store
        self._incidents = incidents
        self._purge = purge
        self._base = (config.url or base_url or "").rstrip("/")
        self._responders = responders
        self._clock = clock
        self._show = show
        self._ids = {c.id: c for c in config.components}

    async def start(self) -> None:
        """Components the page hasn't watched before start as operational now."""
        await self._store.watch([c.id for c in self._config.components], self._clock())

    async def view(self) -> PageView:
        now = self._clock()
        return page_view(self._config, await self._store.page(now - WINDOW), now)

    async def run(self, command: cmd.StatusCommand, inv: Invocation) -> StatusReply:
        match command:
            case cmd.ShowStatus():
                return StatusNow(await self.view())
            case cmd.DecideDraft(draft_id=draft_id, publish=publish):
                return await self._decide(draft_id, publish, inv)
        await self._may_publish(inv)
        match command:
            case cmd.DraftPublish(number=number, components=components, text=text):
                incident = await named_incident(self._incidents, number, inv, usage=_FORM)
                self._known(components)
                if await self._store.open_incident_for(incident.number):
                    raise UserError(
                        f"{incident.key} is already on the page: "
                        f"`/lucia status update #{incident.number} …` adds to it."
                    )
                return await self._draft(
                    "publish",
                    incident.number,
                    inv,
                    {"name": text[:MAX_NAME], "body": text, "components": _states(components)},
                    f"New public incident: {text[:MAX_NAME]}",
                    [text, *_component_lines(components, self._ids)],
                )
            case cmd.DraftUpdate(number=number, phase=phase, components=components, text=text):
                incident = await named_incident(self._incidents, number, inv, usage=_FORM)
                public = await self._public(incident)
                self._known(components)
                chosen = phase or public.status
                return await self._draft(
                    "update",
                    incident.number,
                    inv,
                    {
                        "incident_id": public.id,
                        "phase": chosen.value,
                        "body": text,
                        "components": _states(components),
                    },
                    f"Update to “{public.name}” ({chosen.value})",
                    [text, *_component_lines(components, self._ids)],
                )
            case cmd.DraftResolve(number=number, text=text):
                incident = await named_incident(self._incidents, number, inv, usage=_FORM)
                public = await self._public(incident)
                back = {c: ComponentState.OPERATIONAL for c in public.components}
                return await self._draft(
                    "resolve",
                    incident.number,
                    inv,
                    {"incident_id": public.id, "body": text, "components": _states(back)},
                    f"Resolve “{public.name}”",
                    [text, *_component_lines(back, self._ids)],
                )
            case cmd.DraftMaintenance():
                return await self._draft_maintenance(command, inv)
        raise AssertionError(f"unhandled status command {command!r}")

    # -- drafts -----------------------------------------------------------------------

    async def _draft(
        self,
        action: str,
        number: int | None,
        inv: Invocation,
        payload: dict[str, JSONValue],
        title: str,
        lines: Sequence[str],
    ) -> StatusPreview:
        draft = await self._store.add_draft(action, payload, number, inv.actor, self._clock())
        return StatusPreview(draft.id, title, tuple(lines))

    async def _draft_maintenance(
        self, command: cmd.DraftMaintenance, inv: Invocation
    ) -> StatusPreview:
        self._known({c: ComponentState.UNDER_MAINTENANCE for c in command.components})
        starts = command.starts_at or self._clock()
        if starts + command.duration <= self._clock():
            raise CommandError(
                f"That maintenance would be over already (it ends "
                f"{starts + command.duration:%Y-%m-%d %H:%M} UTC): give a time to come, or now.",
                _FORM,
            )
        ends = starts + command.duration
        return await self._draft(
            "maintenance",
            None,
            inv,
            {
                "name": command.text[:MAX_NAME],
                "body": command.text,
                "components": list(command.components),
                "starts_at": starts.isoformat(),
                "ends_at": ends.isoformat(),
            },
            f"Scheduled maintenance: {command.text[:MAX_NAME]}",
            [
                command.text,
                f"When: {starts:%Y-%m-%d %H:%M} to {ends:%Y-%m-%d %H:%M} UTC",
                *_component_lines(
                    {c: ComponentState.UNDER_MAINTENANCE for c in command.components}, self._ids
                ),
            ],
        )

    async def _decide(self, draft_id: int, publish: bool, inv: Invocation) -> StatusReply:
        await self._may_publish(inv)
        now = self._clock()
        shown = await self._store.draft(draft_id) if publish else None
        overtaken = await self._overtaken(shown, now) if shown is not None else None
        draft = await self._store.take_draft(
            draft_id, "published" if publish and not overtaken else "cancelled", inv.actor, now
        )
        if draft is None:
            return Noted(f"Draft D{draft_id} was already decided, or doesn't exist.", True)
        if overtaken:
            return Noted(f"D{draft_id} wasn't published, and is cancelled: {overtaken}", True)
        if not publish:
            return Noted(f"Cancelled: nothing from D{draft_id} went to the status page.")
        payload: Mapping[str, Any] = draft.payload
        if draft.action == "maintenance":
            await self._store.add_maintenance(
                Maintenance(
                    0,
                    str(payload["name"]),
                    str(payload["body"]),
                    tuple(payload["components"]),
                    datetime.fromisoformat(payload["starts_at"]),
                    datetime.fromisoformat(payload["ends_at"]),
                    now,
                    inv.actor,
                )
            )
            said = f"Maintenance “{payload['name']}” is on the status page"
            return Noted(said + await self._purged() + ".")
        components = {c: ComponentState(s) for c, s in payload["components"].items()}
        phase = (
            Phase.RESOLVED
            if draft.action == "resolve"
            else Phase(payload.get("phase", Phase.INVESTIGATING.value))
        )
        number = draft.incident_number
        event = None
        if number is not None:
            # The actor is the event's: the text says what, as "<actor> published …" reads.
            text = Text(
                f"Published to the status page ({phase.value}): {payload['body']}",
                _states_said(components, self._ids),
            )
            event = TimelineEvent(
                number, now, EventKind.STATUS_PAGE, inv.actor, stored_text(text), dict(payload)
            )
        public = await self._store.publish(
            incident_id=payload.get("incident_id"),
            name=str(payload.get("name", "")),
            phase=phase,
            body=str(payload["body"]),
            components=components,
            number=number,
            by=inv.actor,
            at=now,
            event=event,
        )
        if event is not None:
            await self._show(event)
        verb = {"publish": "Published", "update": "Updated", "resolve": "Resolved"}[draft.action]
        return Noted(f"{verb} “{public.name}” on the status page" + await self._purged() + ".")

    async def _overtaken(self, draft: Draft, now: datetime) -> str | None:
        """Why a draft shown earlier can't go out now: the page changed since (another
        draft published the incident, or resolved it), or its maintenance is over. (Two
        drafts confirmed at the same instant can still both pass this.)"""
        payload: Mapping[str, Any] = draft.payload
        if draft.action == "maintenance":
            ends = datetime.fromisoformat(payload["ends_at"])
            if ends <= now:
                return f"that maintenance was over at {ends:%Y-%m-%d %H:%M} UTC."
            return None
        if draft.incident_number is None:
            return None
        key, number = f"INC-{draft.incident_number}", draft.incident_number
        public = await self._store.open_incident_for(number)
        if draft.action == "publish" and public is not None:
            return (
                f"{key} went on the status page since (“{public.name}”): "
                f"`/lucia status update #{number} …` adds to it."
            )
        if draft.action != "publish" and (public is None or public.id != payload["incident_id"]):
            return (
                f"{key}'s public incident was resolved since: "
                f"`/lucia status publish #{number} …` puts it on the page again."
            )
        return None

    async def _purged(self) -> str:
        """After a publish: Cloudflare told to drop its copies, or why it wasn't."""
        if self._purge is None or not self._base:
            return ""
        try:
            await self._purge.purge([self._base + path for path in PAGE_PATHS])
        except CachePurgeFailed as exc:
            return (
                f"; ⚠️ Cloudflare's cache wasn't purged ({exc}): the page shows it within "
                "30 s, when its cached copy expires"
            )
        return "; Cloudflare's cache purged"

    # -- checks -----------------------------------------------------------------------

    async def _may_publish(self, inv: Invocation) -> None:
        if inv.actor not in await self._responders():
            raise UserError(
                "Only responders (the launch-gate owners, admins and `playbooks.responders`) "
                "change the public status page."
            )

    def _known(self, components: Mapping[str, ComponentState]) -> None:
        if not self._ids:
            raise UserError("The status page has no components: add `status_page:` to lucia.yaml.")
        unknown = [c for c in components if c not in self._ids]
        if unknown:
            raise CommandError(
                f"No component {', '.join(unknown)} on the status page: "
                f"the components are {', '.join(self._ids)}.",
                _FORM,
            )

    async def _public(self, incident: Incident) -> PublicIncident:
        public = await self._store.open_incident_for(incident.number)
        if public is None:
            raise UserError(
                f"{incident.key} isn't on the status page: "
                f"`/lucia status publish #{incident.number} <component>=<state> <text>` first."
            )
        return public


def _states(components: Mapping[str, ComponentState]) -> dict[str, JSONValue]:
    return {c: s.value for c, s in components.items()}


def _component_lines(components: Mapping[str, ComponentState], ids: Mapping[str, Any]) -> list[str]:
    """In the page's order (a JSON column may keep its keys in another)."""
    return [f"{ids[c].name}: {components[c].words}" for c in ids if c in components]


def _states_said(components: Mapping[str, ComponentState], ids: Mapping[str, Any]) -> str:
    if not components:
        return ""
    return " (" + "; ".join(_component_lines(components, ids)) + ")"
