"""The `/lucia` grammar: the first word picks the package that owns the command, whose
parser reads the rest. Text in, a typed command out, or a `CommandError` that says what was
wrong and the right form.

Each domain package declares its commands in its `commands.py`: the dataclasses, the
union its service answers, its forms (`USAGE`) and its first words (`VERBS`). This module
only puts them together; a new command is added in its package, not here.
Parsing is pure and front-agnostic: Slack's slash command, an @-mention and the local
shell all hand their text to `parse`.
"""

from __future__ import annotations

__all__ = ["USAGE", "Command", "parse", "usage"]

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from bot.alerts import commands as alerts
from bot.command_text import clip, first_word
from bot.errors import CommandError
from bot.gate import commands as gate
from bot.incidents import commands as incidents
from bot.paging import commands as paging
from bot.playbooks import commands as playbooks
from bot.postmortem import commands as postmortem
from bot.status import commands as status

Command = (
    incidents.IncidentsCommand
    | alerts.AlertCommand
    | paging.PagingCommand
    | playbooks.PlaybookCommand
    | postmortem.PostmortemCommand
    | gate.GateCommand
    | status.StatusCommand
)

V = TypeVar("V")


def _joined(tables: Iterable[Mapping[str, V]]) -> Mapping[str, V]:
    joined: dict[str, V] = {}
    for table in tables:
        for key, value in table.items():
            if key in joined:
                raise ValueError(f"two packages claim `{key}` in the /lucia grammar")
            joined[key] = value
    return joined


_PACKAGES = (incidents, alerts, paging, playbooks, postmortem, gate, status)

# Every form, in the order help shows them.
USAGE: Mapping[str, str] = _joined(p.USAGE for p in _PACKAGES)

_VERBS: Mapping[str, Callable[[str], Command]] = _joined(p.VERBS for p in _PACKAGES)


def parse(text: str) -> Command:
    head, rest = first_word(text)
    parser = _VERBS.get(head.lower())
    if parser is None:
        raise CommandError(f"I don't know the command `{clip(head)}`.", "/lucia help")
    return parser(rest)


def usage(name: str) -> str:
    """The right form of a command, by its name in `USAGE` ("open", "silence", …)."""
    return USAGE[name]
