"""What every `/lucia` command parser reads the same way: words, free text, incident
references (`#N`, `INC-N`) and @mentions. Each domain's `commands.py` parses its own verbs
with these; a problem is a `CommandError` carrying the form (`usage`) the caller gives.

This module depends on nothing above `bot.errors` and `bot.plain_text`.
"""

from __future__ import annotations

__all__ = [
    "MAX_TEXT",
    "MENTION",
    "REF_NUMBER",
    "clip",
    "first_word",
    "free_text",
    "incident_number",
    "lone",
    "no_more",
    "ref_only",
    "take_ref",
    "trailing_ref",
]

import re

from bot.errors import CommandError
from bot.plain_text import plain_text

MAX_TEXT = 2900  # under Slack's 3,000-character section limit

# How an incident is named: INC-12 (any case), #12, or a bare 12 where nothing else could
# stand there; "INC-12:" and "#12," work too (as typed before the text). A word that starts
# with INC- or # and isn't a number is a mistake, never text that silently lands on the
# channel's incident. Where a bare number could be the command's own value, it is that value:
# `incident sev 2` sets SEV2 (name the incident as #N or INC-N: `sev INC-3 2`), and the first
# word of free text (`update 3 pods restarted`) stays text, unless it is the only word
# (`resolve 3` resolves INC-3). The bare number is the incident in show, timeline, ack,
# mitigated, reopen, postmortem and followup list, before status's status word, and on
# either side of lead's @mention.
_REF_PREFIX = re.compile(r"#|inc-", re.IGNORECASE)
REF_NUMBER = re.compile(r"(\d+)[:,]?")
_MAX_INCIDENT_DIGITS = 9  # the numbers are stored as a 32-bit integer
# Slack escapes mentions as <@U123> or <@U123|name> (the manifest sets should_escape);
# the local shell writes <@name>.
MENTION = re.compile(r"<@([\w.:-]+)(?:\|[^>]*)?>")


def first_word(text: str) -> tuple[str, str]:
    """The first word and the rest ("" for either when missing)."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def take_ref(text: str, usage: str, *, bare: bool) -> tuple[int | None, str]:
    """The incident named by the first word, if it names one, and the rest of the text.
    `bare`: whether a bare number there names the incident (see `_REF_PREFIX`)."""
    first, rest = first_word(text)
    number = incident_number(first, usage, bare=bare) if first else None
    if number is None:
        return None, text
    return number, rest


def lone(text: str) -> bool:
    """The whole text is one word: a bare number alone names the incident."""
    return len(text.split()) == 1


def incident_number(word: str, usage: str, *, bare: bool) -> int | None:
    """INC-12, #12 (and 12, when `bare`) → 12; None for a word that doesn't try to name an
    incident; a `CommandError` for one that tries and isn't a number we could have."""
    prefix = _REF_PREFIX.match(word)
    if prefix is not None:
        form = "#" if prefix.group() == "#" else "INC-"
        digits = REF_NUMBER.fullmatch(word[prefix.end() :])
    elif bare and (digits := REF_NUMBER.fullmatch(word)) is not None:
        form = "#"
    else:
        return None
    if digits is None:
        raise CommandError(
            f"`{clip(word)}` isn't an incident number: write it as {form}N, for example {form}12.",
            usage,
        )
    significant = digits.group(1).lstrip("0")
    if not significant:
        raise CommandError(
            f"`{clip(word)}` isn't an incident number: they start at {form}1.", usage
        )
    if len(significant) > _MAX_INCIDENT_DIGITS:
        raise CommandError(
            f"`{clip(word)}` is too big for an incident number: write it as {form}N, "
            f"for example {form}12.",
            usage,
        )
    return int(significant)


def trailing_ref(text: str, usage: str, number: int | None, *, bare: bool) -> int:
    """`sev 2 #3`, `lead @ana INC-3`: the incident may also follow the value."""
    words = text.split()
    found = incident_number(words[0], usage, bare=bare) if len(words) == 1 else None
    if number is not None or found is None:
        raise CommandError(f"I didn't understand `{clip(text)}`.", usage)
    return found


def ref_only(text: str, usage: str) -> int | None:
    """An optional incident reference and nothing else."""
    number, rest = take_ref(text, usage, bare=True)
    no_more(rest, usage)
    return number


def no_more(text: str, usage: str) -> None:
    if text.strip():
        raise CommandError(f"I didn't understand `{clip(text)}`.", usage)


def free_text(text: str, usage: str, missing: str, *, required: bool = True) -> str:
    """Typed text as plain text, within `MAX_TEXT`; `missing` says what's wanted when empty."""
    text = plain_text(text).strip()
    if required and not text:
        raise CommandError(missing, usage)
    if len(text) > MAX_TEXT:
        raise CommandError(
            f"That text is {len(text):,} characters; the limit is {MAX_TEXT:,}.", usage
        )
    return text


def clip(text: str, limit: int = 40) -> str:
    """Typed text quoted back in a problem: backticks can't break out, and it stays short."""
    text = text.replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"
