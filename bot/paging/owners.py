"""The launch-gate table and the references: loaded from lucia.yaml, shown, and changed
from chat only by the owner or an admin, each change audited by the store."""

from __future__ import annotations

__all__ = ["OwnersTable"]

import logging
from collections.abc import Collection, Sequence

from bot import log_messages as msg
from bot.config import LuciaConfig, Owner
from bot.errors import UserError
from bot.incidents.replies import ItemList, Noted, Reply
from bot.paging import commands as cmd
from bot.paging.model import OwnerEntry
from bot.paging.people import People, is_placeholder
from bot.paging.ports import Contact, PagingStore
from bot.secret_shapes import looks_secret
from bot.text import Code, Mention, Strong, Text, joined
from bot.types import Clock
from bot.vocabulary import REFERENCE_KEYS, Invocation, Role

log = logging.getLogger(__name__)


class OwnersTable:
    def __init__(
        self,
        store: PagingStore,
        people: People,
        config: LuciaConfig,
        clock: Clock,
        channels: Collection[str],  # the notifiers' channels: what a row may lack
    ) -> None:
        self._store = store
        self._people = people
        self._config = config
        self._clock = clock
        self._channels = frozenset(channels)

    async def responders(self) -> set[str]:
        """Who may run playbooks: the launch-gate owners, admins and configured responders."""
        people = {e.contact.slack_user for e in await self._store.owners() if e.contact}
        return (
            {p for p in people if p}
            | set(self._config.admins)
            | set(self._config.playbooks.responders)
        )

    async def load_config(self) -> None:
        """lucia.yaml into the database: the copy paging reads."""
        now = self._clock()
        owners = [_entry(role, self._config.owners.get(role)) for role in Role]
        changed = await self._store.load_owners(owners, now)
        refs = self._config.references.model_dump()
        changed += await self._store.load_refs(refs, now)
        if changed:
            log.info(msg.LAUNCH_GATE_LOADED, extra={"changed": ",".join(changed)})

    async def show_owners(self) -> Reply:
        return _owners_table(await self._store.owners(), self._channels)

    async def show_refs(self) -> Reply:
        return _refs_table(await self._store.refs())

    async def set_ref(self, command: cmd.SetRef, inv: Invocation) -> Reply:
        await self._may_change(inv, "the references")
        if looks_secret(command.value):
            raise UserError(
                "That looks like a secret. References point to where secrets live "
                "(a vault path, a URL); never the secret itself."
            )
        await self._store.set_ref(command.key, command.value, inv.actor, self._clock())
        return Noted(
            Text(
                "Reference ",
                Code(command.key),
                f" is now {command.value} (recorded in the audit log).",
            )
        )

    async def set_owner(self, command: cmd.SetOwner, inv: Invocation) -> Reply:
        await self._may_change(inv, "the launch-gate table")
        role = Role(command.role)
        current = next(e for e in await self._store.owners() if e.role is role)
        keep = (
            current.contact
            if current.contact and current.contact.slack_user == command.user
            else None
        )
        if keep is not None and not is_placeholder(keep.name, keep.slack_user):
            name = keep.name
        else:  # someone new: by the name the table or their Slack profile has for them
            name = (await self._people.names({command.user: ""}))[command.user]
        contact = Contact(
            name=name,
            slack_user=command.user,
            email=command.email or (keep.email if keep else None),
            phone=command.phone or (keep.phone if keep else None),
            push_topic=keep.push_topic if keep else None,
        )
        entry = await self._store.set_owner(
            OwnerEntry(role, contact, current.notes), inv.actor, self._clock()
        )
        gaps = entry.gaps(self._channels)
        text = Text(role.value, " is now ", Mention(command.user), " (recorded in the audit log).")
        if gaps:
            text += " Still missing: " + "; ".join(gaps) + "."
        return Noted(text)

    async def _may_change(self, inv: Invocation, what: str) -> None:
        """Only whoever holds the owner role, or a configured admin, changes the table."""
        owner = next(e for e in await self._store.owners() if e.role is Role.OWNER)
        holder = owner.contact.slack_user if owner.contact else None
        if inv.actor in self._config.admins or (holder is not None and inv.actor == holder):
            return
        if holder is not None:
            raise UserError(
                Text("Only the owner (", Mention(holder), f") or an admin may change {what}.")
            )
        raise UserError(
            f"Nobody holds the owner role yet, so nobody may change {what} from chat. "
            "Name the owner in lucia.yaml (`owners:` → `owner:` with `name` and `slack: "
            f"U…`), or put your user id (`{inv.actor}`) under `admins:`, and restart; in "
            f"the shell that id is the one you start it with: `lucia-bot shell --user "
            f"{inv.actor}`."
        )


def _entry(role: Role, owner: Owner | None) -> OwnerEntry:
    if owner is None:
        return OwnerEntry(role, None)
    contact = Contact(owner.name, owner.slack, owner.email, owner.phone, owner.push_topic)
    return OwnerEntry(role, contact, owner.notes)


def _owners_table(entries: Sequence[OwnerEntry], channels: Collection[str]) -> ItemList:
    rows = []
    for entry in entries:
        c = entry.contact
        role = Strong(entry.role.value)
        if c is None:
            rows.append(
                Text(role, ": ⚠️ nobody — ", Code(f"/lucia owners set {entry.role.value} @user"))
            )
            continue
        ways = [
            Mention(c.slack_user) if c.slack_user else None,
            c.email,
            c.phone,
            "push" if c.push_topic else None,
        ]
        gaps = "".join(f"\n    ⚠️ {gap}" for gap in entry.gaps(channels))
        rows.append(Text(role, f": {c.name} — ", joined(", ", (w for w in ways if w)), gaps))
    return ItemList(Text(Strong("Launch-gate owners")), tuple(rows))


def _refs_table(values: dict[str, str | None]) -> ItemList:
    rows = []
    for key in REFERENCE_KEYS:
        value = values.get(key)
        rows.append(Text(Strong(key), f": {value}" if value else ": ⚠️ not set"))
    return ItemList(Text(Strong("References"), " (pointers, never secrets)"), tuple(rows))
