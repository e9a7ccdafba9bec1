"""The paging commands: `/lucia page …`, `owners [set …]`, `refs [set …]`, and a page's
Acknowledge button (which has no text form)."""

from __future__ import annotations

__all__ = [
    "USAGE",
    "VERBS",
    "AcknowledgePage",
    "PageSomeone",
    "PagingCommand",
    "SetOwner",
    "SetRef",
    "ShowOwners",
    "ShowRefs",
]

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.command_text import MENTION, clip, first_word, free_text
from bot.errors import CommandError
from bot.plain_text import plain_text
from bot.types import UserId
from bot.vocabulary import EMAIL_ADDRESS, REFERENCE_KEYS, ROLES

USAGE = {
    "page": "/lucia page <owner|infra|dns|billing|fallback|@user> [message]",
    "owners": "/lucia owners",
    "owners set": "/lucia owners set <role> @user [email] [phone]",
    "refs": "/lucia refs",
    "refs set": "/lucia refs set <key> <value>",
}


@dataclass(frozen=True)
class PageSomeone:
    target: str  # a role, or a Slack user id
    message: str  # as typed, Slack's markup kept: paging names its people for each channel
    is_role: bool


@dataclass(frozen=True)
class AcknowledgePage:
    """The Acknowledge button of a page's DM (no text form)."""

    page_id: int


@dataclass(frozen=True)
class ShowOwners:
    pass


@dataclass(frozen=True)
class SetOwner:
    role: str
    user: UserId
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class ShowRefs:
    pass


@dataclass(frozen=True)
class SetRef:
    key: str
    value: str


# Every command `PagingService` answers.
PagingCommand = PageSomeone | AcknowledgePage | ShowOwners | SetOwner | ShowRefs | SetRef

_EMAIL = re.compile(rf"(?:<mailto:[^|>]+\|)?({EMAIL_ADDRESS})>?")
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{5,30}")


def _parse_page(text: str) -> PageSomeone:
    target, rest = first_word(text)
    if not target:
        raise CommandError(
            "Page whom? A role from the launch-gate table, or @someone.", USAGE["page"]
        )
    free_text(rest, USAGE["page"], "", required=False)  # its length, as people read it
    message = rest.strip()
    if target.lower() in ROLES:
        return PageSomeone(target.lower(), message, is_role=True)
    mention = MENTION.fullmatch(target)
    if mention is None:
        raise CommandError(
            f"`{clip(target)}` is neither a role ({', '.join(ROLES)}) nor a @mention.",
            USAGE["page"],
        )
    return PageSomeone(mention.group(1), message, is_role=False)


def _parse_owners(text: str) -> ShowOwners | SetOwner:
    sub, rest = first_word(text)
    if sub == "":
        return ShowOwners()
    if sub.lower() != "set":
        raise CommandError(f"`owners {clip(sub)}` isn't a command I know.", USAGE["owners set"])
    words = rest.split()
    if len(words) < 2 or words[0].lower() not in ROLES:
        raise CommandError(
            f"Set which role to whom? Roles: {', '.join(ROLES)}.", USAGE["owners set"]
        )
    mention = MENTION.fullmatch(words[1])
    if mention is None:
        raise CommandError(
            f"`{clip(words[1])}` isn't a @mention: type @ and pick the person.",
            USAGE["owners set"],
        )
    email = phone = None
    extra = " ".join(words[2:])
    for word in re.split(r"\s+(?=\S*@|\+)", extra) if extra else []:
        if found := _EMAIL.fullmatch(word.strip()):
            email = found.group(1)
        elif _PHONE.fullmatch(word.strip()):
            phone = word.strip()
        else:
            raise CommandError(
                f"`{clip(word)}` is neither an e-mail address nor a phone number.",
                USAGE["owners set"],
            )
    return SetOwner(words[0].lower(), mention.group(1), email, phone)


def _parse_refs(text: str) -> ShowRefs | SetRef:
    sub, rest = first_word(text)
    if sub == "":
        return ShowRefs()
    if sub.lower() != "set":
        raise CommandError(f"`refs {clip(sub)}` isn't a command I know.", USAGE["refs set"])
    key, value = first_word(rest)
    if key.lower() not in REFERENCE_KEYS:
        raise CommandError(
            f"`{clip(key)}` isn't a reference. Keys: {', '.join(REFERENCE_KEYS)}.",
            USAGE["refs set"],
        )
    value = plain_text(value).strip()
    if not value:
        raise CommandError("Set it to what?", USAGE["refs set"])
    return SetRef(key.lower(), value)


# The first words of `/lucia …` this package owns, each with the parser of what follows.
VERBS: Mapping[str, Callable[[str], PagingCommand]] = {
    "page": _parse_page,
    "owners": _parse_owners,
    "owner": _parse_owners,
    "refs": _parse_refs,
    "references": _parse_refs,
}
