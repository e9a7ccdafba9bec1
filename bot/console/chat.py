"""`IncidentChat` for the terminal: channels live in memory, messages are printed."""

from __future__ import annotations

__all__ = ["ConsoleChat"]

from collections.abc import Callable, Sequence

from bot.console.render import card_text, event_text, gate_text, unformat
from bot.errors import ChannelNameTaken
from bot.gate.replies import GateReport
from bot.incidents.model import Incident, TimelineEvent
from bot.incidents.ports import Posted
from bot.types import UserId

CHANNEL_ID_LENGTH = 32  # incidents.channel_id


class ConsoleChat:
    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        # A console channel's id is its name, cut to what the database keeps of an id
        # (32): incident channel names start with the incident number, so ids stay unique
        # across shell sessions on the same database.
        self.channels: set[str] = {"console"}
        self._names: dict[str, str] = {}

    def channel_name(self, channel_id: str) -> str:
        return self._names.get(channel_id, channel_id)

    @staticmethod
    def channel_id(name: str) -> str:
        return name[:CHANNEL_ID_LENGTH]

    def _say(self, channel_id: str, text: str) -> None:
        self._print(channel_id, unformat(text, self.channel_name))

    def _print(self, channel_id: str, plain: str) -> None:
        prefix = f"[#{self.channel_name(channel_id)}] "
        self._write(prefix + plain.replace("\n", "\n" + " " * len(prefix)))

    async def create_channel(self, name: str) -> str:
        channel_id = self.channel_id(name)
        if channel_id in self.channels:
            raise ChannelNameTaken("conversations.create", "name_taken")
        self.channels.add(channel_id)
        self._names[channel_id] = name
        self._say(channel_id, "channel created")
        return channel_id

    async def invite(self, channel_id: str, users: Sequence[UserId]) -> None:
        self._say(channel_id, "joined: " + ", ".join(f"@{u}" for u in users))

    async def set_topic(self, channel_id: str, topic: str) -> None:
        self._say(channel_id, f"topic: {topic}")

    async def post_card(self, channel_id: str, incident: Incident, warning: str | None) -> str:
        self._say(channel_id, card_text(incident, warning))
        return channel_id

    async def update_card(
        self, channel_id: str, message_id: str, incident: Incident, warning: str | None
    ) -> None:
        return None  # the terminal can't edit what it printed; events say what changed

    async def post_announcement(self, channel: str, incident: Incident) -> Posted:
        self._say(channel, f"🚨 {incident.key} {incident.severity.label}: {incident.title}")
        return Posted(channel, channel)

    async def update_announcement(
        self, channel_id: str, message_id: str, incident: Incident
    ) -> None:
        return None

    async def post_event(self, channel_id: str, incident: Incident, event: TimelineEvent) -> None:
        self._say(channel_id, event_text(event))

    async def post_gate(self, channel: str, report: GateReport) -> None:
        # Plain text already: a reason's `&lt;` is what the check said, not markup.
        self._print(channel, gate_text(report.evaluation, report.changed_from))

    async def user_exists(self, user: UserId) -> bool:
        return True
