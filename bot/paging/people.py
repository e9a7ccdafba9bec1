"""Who someone is, in words: the name a page shows for a Slack user id.

The launch-gate table's name first (what the team calls its owners), then the person's
chat profile (`ProfileNames`, when Slack is configured), then the label Slack gave the
mention, and only then the id itself — never markup. E-mail and push get these names
without knowing Slack exists.
"""

from __future__ import annotations

__all__ = ["People", "is_placeholder"]

import asyncio
import logging
from collections.abc import Mapping

from bot import log_messages as msg
from bot.paging.ports import Contact, PagingStore, ProfileNames
from bot.paging.words import Person, is_slack_user
from bot.vocabulary import SYSTEM_ACTOR

log = logging.getLogger(__name__)

SYSTEM_NAME = "Lucia"


def is_placeholder(name: str, slack_user: str | None) -> bool:
    """A name that is really an id: empty, the id itself, or the `<@U…>` earlier versions
    stored for people set from Slack."""
    name = name.strip()
    return not name or name == slack_user or (name.startswith("<@") and name.endswith(">"))


class People:
    def __init__(self, store: PagingStore, profiles: ProfileNames | None) -> None:
        self._store = store
        self._profiles = profiles  # None: no Slack here, so the table or the id

    async def person(self, who: str) -> Person:
        """An actor as a person: a Slack user by name, a shell user as themselves."""
        if who == SYSTEM_ACTOR:
            return Person(SYSTEM_NAME)
        if not is_slack_user(who):
            return Person(who)  # the local shell's user name
        return Person((await self.names({who: ""}))[who], who)

    async def contact(self, contact: Contact) -> Person:
        """The person a page reaches, by the name their launch-gate row (or page) holds."""
        user = contact.slack_user
        if user is None or not is_placeholder(contact.name, user):
            return Person(contact.name, user)
        return Person((await self.names({user: ""}))[user], user)

    async def names(self, wanted: Mapping[str, str]) -> dict[str, str]:
        """A name for each Slack id in `wanted` (id → the label Slack gave it, or "")."""
        table = {
            e.contact.slack_user: e.contact.name
            for e in await self._store.owners()
            if e.contact
            and e.contact.slack_user in wanted
            and not is_placeholder(e.contact.name, e.contact.slack_user)
        }
        unknown = [user for user in wanted if user not in table]
        profiles = dict(zip(unknown, await self._profile_names(unknown), strict=True))
        return {
            user: table.get(user) or profiles.get(user) or label.strip() or user
            for user, label in wanted.items()
        }

    async def _profile_names(self, users: list[str]) -> list[str | None]:
        if self._profiles is None or not users:
            return [None] * len(users)
        found = await asyncio.gather(
            *(self._profiles.name_of(user) for user in users), return_exceptions=True
        )
        names: list[str | None] = []
        for user, name in zip(users, found, strict=True):
            if isinstance(name, BaseException):
                if not isinstance(name, Exception):
                    raise name  # cancellation and the like are not ours to keep
                # A bug in the lookup must not keep a page from going out: the id is shown.
                log.error(msg.PERSON_NAME_LOOKUP_FAILED, extra={"user": user}, exc_info=name)
                names.append(None)
            else:
                names.append(name)
        return names
