"""Playbooks as files (`playbooks/*.yaml`), validated with pydantic, and what a run keeps.

A playbook is a list of steps. A run copies them, and each step's state (pending, running,
succeeded, failed, skipped, interrupted) and duration is stored: the result message is
derived from those states and from what Render reports at the end, never from what the bot
hoped happened.
"""

from __future__ import annotations

__all__ = [
    "Approval",
    "ApprovalStep",
    "Playbook",
    "PlaybookSet",
    "RunState",
    "Step",
    "StepState",
    "load_playbooks",
]

import enum
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.config import Duration, load_yaml
from bot.errors import ConfigError, ConfigProblem


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RollbackStep(_Model):
    kind: Literal["rollback"]
    # previous: the newest deploy that was live before the current one; or a dep- id given
    # on the command line (`/lucia rollback engine dep-…`).
    to: Literal["previous"] = "previous"


class RenderActionStep(_Model):
    kind: Literal["restart", "suspend", "resume", "autodeploy_off"]


class DeployStep(_Model):
    kind: Literal["deploy"]
    commit: str | None = None  # none: the commit given on the command line, else the branch


class WaitLiveStep(_Model):
    kind: Literal["wait_live"]
    timeout: Duration = timedelta(minutes=20)
    poll: Duration = timedelta(seconds=5)  # doubles up to 6x while it waits


class HealthCheckStep(_Model):
    kind: Literal["health_check"]
    url: str | None = None  # none: the service's health_url in lucia.yaml
    expect_status: int = 200
    expect_body: str | None = None  # a substring the body must contain
    retries: int = Field(default=5, ge=1, le=60)
    interval: Duration = timedelta(seconds=10)


class MessageStep(_Model):
    kind: Literal["slack_message"]
    text: str


class PauseStep(_Model):
    kind: Literal["pause"]
    wait: Duration


class ApprovalStep(_Model):
    """Stop until a second responder approves (not the requester); after `timeout`, the
    run fails here and the steps after it are skipped."""

    kind: Literal["approval"]
    message: str = "Continue?"
    timeout: Duration = timedelta(minutes=30)


Step = Annotated[
    RollbackStep
    | RenderActionStep
    | DeployStep
    | WaitLiveStep
    | HealthCheckStep
    | MessageStep
    | PauseStep
    | ApprovalStep,
    Field(discriminator="kind"),
]


class Approval(enum.StrEnum):
    AUTO = "auto"  # a second person approves runs against production services
    ALWAYS = "always"  # a second person approves every run of this playbook


class Playbook(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    description: str = ""
    service: str | None = None  # the service it runs on unless the command names one
    approval: Approval = Approval.AUTO
    steps: list[Step] = Field(min_length=1)


class PlaybookSet(_Model):
    playbooks: dict[str, Playbook] = {}
    problems: list[ConfigProblem] = []


def load_playbooks(folder: Path) -> PlaybookSet:
    """Every `*.yaml` in `folder`; a bad file is reported with its location and skipped,
    and the others still load."""
    found: dict[str, Playbook] = {}
    problems: list[ConfigProblem] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            playbook = load_yaml(path, Playbook, what="playbook fields")
        except ConfigError as exc:
            problems += exc.problems
            continue
        if playbook.name in found:
            problems.append(ConfigProblem(str(path), f"a second playbook named {playbook.name}"))
            continue
        found[playbook.name] = playbook
    return PlaybookSet(playbooks=found, problems=problems)


class StepState(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"  # was running when the bot running it stopped: outcome unknown


class RunState(enum.StrEnum):
    PLANNED = "planned"  # shown with Confirm / Cancel
    AWAITING_APPROVAL = "awaiting_approval"  # confirmed; a second person must approve
    RUNNING = "running"
    DONE = "done"  # every step succeeded
    FAILED = "failed"  # a step failed: the reason is on it
    NOT_CONFIRMED = "not_confirmed"  # a wait or a check ran out of time: unknown outcome
    CANCELLED = "cancelled"
    # The bot running it stopped (killed, crashed) and its lease ran out: the step it was
    # on has an unknown outcome; its service lock is freed.
    INTERRUPTED = "interrupted"
    DRY_RUN = "dry_run"  # shown, never run
