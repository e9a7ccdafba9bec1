"""The playbook commands: `/lucia playbook list|run|confirm|cancel|approve …`,
`rollback …` and `deploys …`, and a planned run's buttons."""

from __future__ import annotations

__all__ = [
    "USAGE",
    "VERBS",
    "DecideRun",
    "ListPlaybooks",
    "PlaybookCommand",
    "RunPlaybook",
    "ShowDeploys",
]

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.command_text import clip, first_word
from bot.errors import CommandError

USAGE = {
    "playbook": "/lucia playbook list | run <name> [service] [deploy-or-commit] [--dry-run]",
    "rollback": "/lucia rollback <service> [deploy-id] [--dry-run]",
    "deploys": "/lucia deploys <service>",
    "run": "/lucia playbook confirm|cancel|approve <R12>",
}


@dataclass(frozen=True)
class ListPlaybooks:
    pass


@dataclass(frozen=True)
class ShowDeploys:
    service: str


@dataclass(frozen=True)
class RunPlaybook:
    playbook: str
    service: str | None
    ref: str | None  # a deploy id to roll back to, or a commit to deploy
    dry_run: bool


@dataclass(frozen=True)
class DecideRun:
    """Confirm, cancel or approve a planned run (its buttons, or the text form)."""

    run_id: int
    decision: str  # "confirm" | "cancel" | "approve"


# Every command `PlaybookService` answers.
PlaybookCommand = ListPlaybooks | ShowDeploys | RunPlaybook | DecideRun

_RUN = re.compile(r"R?(\d{1,12})", re.IGNORECASE)


def _parse_playbook(text: str) -> PlaybookCommand:
    sub, rest = first_word(text)
    match sub.lower():
        case "" | "list" | "ls":
            return ListPlaybooks()
        case "run":
            name, rest = first_word(rest)
            if not name:
                raise CommandError("Run which playbook? `/lucia playbook list`", USAGE["playbook"])
            return _parse_run(name.lower(), rest, "playbook")
        case "confirm" | "cancel" | "approve":
            match = _RUN.fullmatch(rest.strip())
            if match is None:
                raise CommandError("Which run? (R12)", USAGE["run"])
            return DecideRun(int(match.group(1)), sub.lower())
        case _:
            raise CommandError(f"`playbook {clip(sub)}` isn't a command I know.", USAGE["playbook"])


def _parse_rollback(text: str) -> RunPlaybook:
    return _parse_run("rollback", text, "rollback")


def _parse_run(name: str, text: str, form: str) -> RunPlaybook:
    words = text.split()
    dry_run = "--dry-run" in words
    words = [w for w in words if w != "--dry-run"]
    if len(words) > 2 or any(w.startswith("-") for w in words):
        raise CommandError(f"I didn't understand `{clip(' '.join(words))}`.", USAGE[form])
    if form == "rollback" and not words:
        raise CommandError("Roll back which service?", USAGE["rollback"])
    service = words[0].lower() if words else None
    ref = words[1] if len(words) > 1 else None
    return RunPlaybook(name, service, ref, dry_run)


def _parse_deploys(text: str) -> ShowDeploys:
    service, more = first_word(text)
    if not service or more:
        raise CommandError("Deploys of which service?", USAGE["deploys"])
    return ShowDeploys(service.lower())


# The first words of `/lucia …` this package owns, each with the parser of what follows.
VERBS: Mapping[str, Callable[[str], PlaybookCommand]] = {
    "playbook": _parse_playbook,
    "playbooks": _parse_playbook,
    "rollback": _parse_rollback,
    "deploys": _parse_deploys,
}
