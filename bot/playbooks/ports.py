"""What playbooks need from Render (the adapter: bot/render/client.py), from the chat a
run reports in, and from the rest of the bot, as the core sees them."""

from __future__ import annotations

__all__ = [
    "DeployStatus",
    "PlaybookStore",
    "RenderAPI",
    "RenderDeploy",
    "RenderService",
    "Responders",
    "RunChannel",
    "Spawner",
    "StepRecord",
    "StoredRun",
    "Timeline",
]

import enum
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.incidents.model import TimelineEvent
from bot.incidents.replies import PlaybookPlan
from bot.playbooks.model import StepState


class DeployStatus(enum.StrEnum):
    CREATED = "created"
    QUEUED = "queued"
    BUILD_IN_PROGRESS = "build_in_progress"
    PRE_DEPLOY_IN_PROGRESS = "pre_deploy_in_progress"
    UPDATE_IN_PROGRESS = "update_in_progress"
    LIVE = "live"
    DEACTIVATED = "deactivated"
    BUILD_FAILED = "build_failed"
    UPDATE_FAILED = "update_failed"
    PRE_DEPLOY_FAILED = "pre_deploy_failed"
    CANCELED = "canceled"
    UNKNOWN = "unknown"  # a status this bot doesn't know yet: treated as still in progress

    @classmethod
    def parse(cls, value: str | None) -> DeployStatus:
        try:
            return cls(value or "unknown")
        except ValueError:
            return cls.UNKNOWN

    @property
    def failed(self) -> bool:
        return self in _FAILED

    @property
    def finished(self) -> bool:
        return self in _FAILED or self in (DeployStatus.LIVE, DeployStatus.DEACTIVATED)


_FAILED = frozenset(
    {
        DeployStatus.BUILD_FAILED,
        DeployStatus.UPDATE_FAILED,
        DeployStatus.PRE_DEPLOY_FAILED,
        DeployStatus.CANCELED,
    }
)


@dataclass(frozen=True)
class RenderDeploy:
    id: str
    status: DeployStatus
    trigger: str = ""
    commit_id: str | None = None
    commit_message: str = ""
    created_at: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class RenderService:
    id: str
    name: str
    suspended: bool
    auto_deploy: bool  # autoDeployTrigger not "off" (or legacy autoDeploy "yes")
    dashboard_url: str | None = None


class RenderAPI(Protocol):
    """Render's REST API v1. Every method raises `RenderError` (bot.errors) with a reason
    an on-call engineer can act on; the API key never appears in one."""

    async def service(self, service_id: str) -> RenderService: ...

    async def deploys(self, service_id: str, *, limit: int = 20) -> Sequence[RenderDeploy]:
        """The most recent deploys, newest first (sorted here, not trusted from Render)."""

    async def deploy(self, service_id: str, deploy_id: str) -> RenderDeploy: ...

    async def rollback(self, service_id: str, deploy_id: str) -> RenderDeploy | None:
        """Roll back TO `deploy_id`: the new deploy, or None when Render only queued it."""

    async def trigger_deploy(
        self, service_id: str, commit_id: str | None = None
    ) -> RenderDeploy | None: ...

    async def restart(self, service_id: str) -> None: ...

    async def suspend(self, service_id: str) -> None: ...

    async def resume(self, service_id: str) -> None: ...

    async def disable_auto_deploy(self, service_id: str) -> RenderService: ...


@dataclass(frozen=True)
class StoredRun:
    id: int
    playbook: str
    service: str
    state: str  # a RunState value
    plan: dict[str, Any]
    requested_by: str
    incident_number: int | None
    channel_id: str | None
    approved_by: str | None = None
    result: str = ""
    started: bool = False  # it has run steps: an approval now is a mid-run approval step
    created_at: datetime = datetime.min
    seconds: float | None = None  # from start to finish, once finished
    started_at: datetime | None = None
    # Renewed by the bot running it while it runs: a run whose lease ran out was left by a
    # bot that stopped (see `Leases`).
    heartbeat_at: datetime | None = None


@dataclass(frozen=True)
class StepRecord:
    """A step's stored state. `deploy_id`: the deploy the run was watching after it (the one
    its action made, or found), so what the run knew survives the bot that ran it."""

    index: int
    kind: str
    state: StepState
    detail: str = ""
    seconds: float | None = None
    deploy_id: str | None = None


class PlaybookStore(Protocol):
    async def create_run(
        self,
        *,
        playbook: str,
        service: str,
        state: str,
        plan: dict[str, Any],
        requested_by: str,
        incident_number: int | None,
        channel_id: str | None,
        at: datetime,
    ) -> StoredRun | None:
        """None when the service already has a planned or running run."""

    async def active_run(self, service: str) -> StoredRun | None: ...

    async def run(self, run_id: int) -> StoredRun | None: ...

    async def move(
        self,
        run_id: int,
        from_states: Sequence[str],
        to: str,
        at: datetime,
        *,
        by: str | None = None,
    ) -> StoredRun | None:
        """Change the run's state only if it is in `from_states` (a double click moves it
        once); the run as changed, or None."""

    async def record_step(self, run_id: int, step: StepRecord, at: datetime) -> None: ...

    async def steps(self, run_id: int) -> Sequence[StepRecord]:
        """The run's stored steps, in order (a step not reached yet has no row)."""

    async def finish(self, run_id: int, state: str, result: str, at: datetime) -> bool:
        """Store the run's outcome, unless it already has one (a sweep found its lease
        run out and marked it interrupted): False then."""

    async def renew_lease(self, run_id: int, at: datetime) -> bool:
        """Renew a running run's lease; False when the run is no longer active."""

    async def leased_runs(self) -> Sequence[StoredRun]:
        """Runs a bot is executing (running, or parked on a mid-run approval step)."""

    async def interrupt(
        self, run_id: int, stale_before: datetime, result: str, at: datetime
    ) -> StoredRun | None:
        """Mark the run interrupted (freeing its service lock) and its running step with it,
        only if it is still executing and its lease was last renewed before `stale_before`;
        the run as changed, or None (it finished, or its bot is alive after all)."""

    async def recent(self, playbook: str, limit: int) -> Sequence[StoredRun]: ...


class RunChannel(Protocol):
    """Where a run reports: the channel it was asked in (None: it was asked elsewhere)."""

    async def say(self, channel: str | None, text: str) -> None: ...

    async def ask(self, channel: str | None, plan: PlaybookPlan) -> None:
        """A mid-run question (an approval step), with its buttons."""


class Timeline(Protocol):
    async def record(self, event: TimelineEvent) -> None:
        """Store an event on its incident's timeline and show it in the incident channel."""


class Responders(Protocol):
    async def responders(self) -> set[str]:
        """Who may run playbooks: the launch-gate owners, admins and configured responders."""


class Spawner(Protocol):
    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run `work` in the background, past the answer to the command that started it."""
