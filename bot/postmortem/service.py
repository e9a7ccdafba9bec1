"""Postmortem use-cases: export (an upload into the incident channel and a signed link),
and follow-up actions kept with the incident."""

from __future__ import annotations

__all__ = ["LINK_LIFETIME", "PostmortemService"]

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import ClassVar, Protocol, get_args

from bot.errors import ChatError, UserError
from bot.incidents.lookup import named_incident
from bot.incidents.model import EventKind, Incident, TimelineEvent
from bot.incidents.ports import IncidentStore
from bot.incidents.replies import ItemList, Noted, Reply
from bot.postmortem import commands as cmd
from bot.postmortem.export import postmortem_markdown
from bot.postmortem.model import FollowUp, PostmortemData
from bot.text import ChannelRef, Code, Mention, Strong, Text, joined, stored_text
from bot.types import Clock
from bot.vocabulary import Invocation

LINK_LIFETIME = timedelta(hours=24)


class PostmortemStore(Protocol):
    async def gather(self, number: int) -> PostmortemData | None: ...

    async def add_followup(
        self,
        number: int,
        text: str,
        owner: str | None,
        by: str,
        at: datetime,
        event: TimelineEvent,
        *,
        blocking: bool = False,
    ) -> FollowUp: ...

    async def followups(self, number: int) -> list[FollowUp]: ...

    async def followup(self, followup_id: int) -> tuple[int, FollowUp] | None: ...

    async def finish_followup(
        self, followup_id: int, by: str, at: datetime, event: TimelineEvent
    ) -> bool: ...

    async def append(self, event: TimelineEvent) -> None: ...


class FileShelf(Protocol):
    """Where a postmortem file goes: Slack's upload into the incident channel."""

    async def upload_file(
        self, channel_id: str, filename: str, content: bytes, title: str, comment: str
    ) -> str: ...


LinkFor = Callable[[int], str | None]  # a signed URL for incident N, or None (not set up)


class PostmortemService:
    handles: ClassVar[tuple[type, ...]] = get_args(cmd.PostmortemCommand)

    def __init__(
        self,
        store: PostmortemStore,
        incidents: IncidentStore,
        shelf: FileShelf | None,
        link_for: LinkFor,
        show: Callable[[TimelineEvent], Awaitable[None]],
        responders: Callable[[], Awaitable[set[str]]],
        clock: Clock,
    ) -> None:
        self._responders = responders
        self._store = store
        self._incidents = incidents
        self._shelf = shelf
        self._link_for = link_for
        self._show = show
        self._clock = clock

    async def gather(self, number: int) -> PostmortemData | None:
        """Everything an export shows, for a link already checked."""
        return await self._store.gather(number)

    async def run(self, command: cmd.PostmortemCommand, inv: Invocation) -> Reply:
        match command:
            case cmd.ExportPostmortem(number=number):
                # The link opens it to anyone holding it for a day: responders only.
                if inv.actor not in await self._responders():
                    raise UserError(
                        "Only responders (the launch-gate owners, admins and "
                        "`playbooks.responders`) export a postmortem here: it comes with a "
                        "link. `lucia-bot export N` prints it where the bot runs."
                    )
                return await self._export(
                    await named_incident(self._incidents, number, inv), inv.actor
                )
            case cmd.AddFollowUp(number=number, text=text, owner=owner, blocking=blocking):
                incident = await named_incident(self._incidents, number, inv)
                now = self._clock()
                who = Text(" for ", Mention(owner)) if owner else Text()
                event = TimelineEvent(
                    incident.number,
                    now,
                    EventKind.FOLLOWUP,
                    inv.actor,
                    stored_text(
                        Text("Blocking follow-up" if blocking else "Follow-up", who, f": {text}")
                    ),
                    {"owner": owner, "blocking": blocking},
                )
                added = await self._store.add_followup(
                    incident.number, text, owner, inv.actor, now, event, blocking=blocking
                )
                await self._show(event)
                gate = " It blocks the launch gate until it is done." if blocking else ""
                return Noted(
                    Text(f"Follow-up F{added.id} added to {incident.key}", who, f".{gate}")
                )
            case cmd.ListFollowUps(number=number):
                incident = await named_incident(self._incidents, number, inv)
                kept = await self._store.followups(incident.number)
                if not kept:
                    return Noted(f"{incident.key} has no follow-ups.")
                return ItemList(
                    Text(Strong(f"Follow-ups of {incident.key}")),
                    tuple(
                        Text(
                            f"{'✅' if f.done_at else '⬜'} F{f.id} {f.text}",
                            " (blocking)" if f.blocking and not f.done_at else "",
                            *((" — ", Mention(f.owner)) if f.owner else ()),
                        )
                        for f in kept
                    ),
                )
            case cmd.FinishFollowUp(followup_id=followup_id):
                one = await self._store.followup(followup_id)
                if one is None:
                    raise UserError(f"There is no follow-up F{followup_id}.")
                owner_incident, followup = one
                allowed = {followup.owner, followup.created_by} | await self._responders()
                if inv.actor not in allowed:
                    raise UserError(
                        f"F{followup_id} is done by its owner, who added it, or a responder."
                    )
                event = TimelineEvent(
                    owner_incident,
                    self._clock(),
                    EventKind.FOLLOWUP,
                    inv.actor,
                    f"Follow-up F{followup_id} done: {followup.text}",
                    {"done": followup_id},
                )
                if not await self._store.finish_followup(
                    followup_id, inv.actor, self._clock(), event
                ):
                    return Noted(f"F{followup_id} was already done.")
                await self._show(event)
                return Noted(f"F{followup_id} is done.")
        raise AssertionError(f"unhandled postmortem command {command!r}")

    async def _export(self, incident: Incident, by: str) -> Reply:
        data = await self._store.gather(incident.number)
        assert data is not None
        text = postmortem_markdown(data)
        parts: list[Text] = [
            Text(f"Postmortem of {incident.key} ({len(data.timeline):,} timeline events)")
        ]
        if self._shelf is not None and incident.channel_id:
            try:
                await self._shelf.upload_file(
                    incident.channel_id,
                    f"{incident.key}-postmortem.md",
                    text.encode(),
                    f"Postmortem: {incident.key} {incident.title}",
                    f"Postmortem draft of {incident.key}: fill in the summary and impact.",
                )
                parts.append(Text("uploaded to ", ChannelRef(incident.channel_id)))
            except ChatError as exc:
                parts.append(Text(f"⚠️ the upload failed ({exc.code})"))
        link = self._link_for(incident.number)
        if link:
            hours = int(LINK_LIFETIME.total_seconds() // 3600)
            parts.append(
                Text(f"link for {hours} h: {link} (", Code("?format=json"), " for the data)")
            )
        else:
            parts.append(Text("no link: set LUCIA_PUBLIC_URL and LUCIA_LINK_SECRET"))
            if self._shelf is None:  # the shell: nowhere to upload it either
                parts.append(Text(Code(f"lucia-bot export {incident.number}"), " prints it here"))
        await self._store.append(
            TimelineEvent(
                incident.number,
                self._clock(),
                EventKind.POSTMORTEM,
                by,
                "Postmortem exported",
                {"link": bool(link)},
            )
        )
        return Noted(joined("; ", parts) + ".")
