"""Running a playbook's steps against Render, recording each step's state as it goes.

A step succeeds only on evidence: a rollback when Render answered with the new deploy, a
wait when Render reports that deploy `live`, a health check when the URL answered as
expected. A wait or check that runs out of time is `failed` with an outcome of "not
confirmed"; the steps after a failure are `skipped`. Each step's record keeps the deploy
the run is watching after it. The run's message is worded from the stored states and a
final read of Render (`result.py`), never from what was hoped.
"""

from __future__ import annotations

__all__ = ["HealthProbe", "Plan", "Runner", "StepRecord", "StepRecorder", "run_steps"]

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.durations import short_duration
from bot.errors import RenderError
from bot.playbooks.model import (
    ApprovalStep,
    DeployStep,
    HealthCheckStep,
    MessageStep,
    PauseStep,
    RenderActionStep,
    RollbackStep,
    Step,
    StepState,
    WaitLiveStep,
)
from bot.playbooks.ports import DeployStatus, RenderAPI, RenderDeploy, StepRecord
from bot.text import Mention, Text, stored_text

NOT_CONFIRMED = "not confirmed"  # the prefix of a step detail when time ran out


class HealthProbe(Protocol):
    async def get(self, url: str, within: float) -> tuple[int, str]:
        """(status, body) of a GET; raises OSError/TimeoutError when there is no answer."""


@dataclass(frozen=True)
class Plan:
    """What the operator confirmed: every id the run will act on, fixed before it starts."""

    playbook: str
    service: str  # the name in lucia.yaml
    service_id: str
    health_url: str | None
    live_deploy: RenderDeploy | None  # live when the plan was made
    target_deploy: RenderDeploy | None  # rollback: the deploy to go back to
    commit: str | None  # deploy: the commit to ship
    steps: tuple[Step, ...]
    dashboard_url: str | None = None  # the service in Render's dashboard, as Render gave it


@dataclass
class RunContext:
    plan: Plan
    deploy_id: str | None = None  # the deploy this run made, which waits look at
    # The newest deploy before an action that makes one without naming it (resume, or a
    # deploy Render only queued): a wait looks for a newer one.
    baseline: str | None = None
    last_status: str = ""


StepRecorder = Callable[[StepRecord], Awaitable[None]]
Say = Callable[[str], Awaitable[None]]
# Asks for a second responder's approval mid-run: who approved, or None (refused, timed out).
AskApproval = Callable[[ApprovalStep], Awaitable[str | None]]


@dataclass
class _Outcome:
    state: StepState
    detail: str


@dataclass
class Runner:
    api: RenderAPI
    probe: HealthProbe
    say: Say
    ask_approval: AskApproval
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _clock: Callable[[], float] = field(default=time.monotonic)

    async def run(
        self, plan: Plan, record: StepRecorder, proceed: Callable[[], Awaitable[bool]]
    ) -> list[StepRecord]:
        """Each step in turn; a failure, or `proceed()` saying no (the run was cancelled),
        skips the rest."""
        ctx = RunContext(plan)
        records: list[StepRecord] = []
        failed = False
        for index, step in enumerate(plan.steps):
            if not failed and not await proceed():
                failed = True
            if failed:
                records.append(StepRecord(index, step.kind, StepState.SKIPPED))
                await record(records[-1])
                continue
            await record(StepRecord(index, step.kind, StepState.RUNNING, deploy_id=ctx.deploy_id))
            began = self._clock()
            outcome = await self._step(step, ctx)
            records.append(
                StepRecord(
                    index,
                    step.kind,
                    outcome.state,
                    outcome.detail,
                    self._clock() - began,
                    ctx.deploy_id,
                )
            )
            await record(records[-1])
            failed = outcome.state is StepState.FAILED
        return records

    async def _step(self, step: Step, ctx: RunContext) -> _Outcome:
        service = ctx.plan.service_id
        try:
            match step:
                case RollbackStep():
                    return await self._rollback(ctx)
                case DeployStep(commit=commit):
                    await self._mark_baseline(ctx)
                    deploy = await self.api.trigger_deploy(service, commit or ctx.plan.commit)
                    if deploy is None:
                        ctx.deploy_id = None
                        return _done("Render queued the deploy (behind another one)")
                    ctx.deploy_id = deploy.id
                    return _done(f"Render started deploy {deploy.id}")
                case RenderActionStep(kind="restart"):
                    await self.api.restart(service)
                    return _done("Render accepted the restart")
                case RenderActionStep(kind="suspend"):
                    await self.api.suspend(service)
                    return _done("Render accepted the suspend")
                case RenderActionStep(kind="resume"):
                    await self._mark_baseline(ctx)
                    await self.api.resume(service)
                    return _done("Render accepted the resume")
                case RenderActionStep(kind="autodeploy_off"):
                    after = await self.api.disable_auto_deploy(service)
                    if after.auto_deploy:
                        return _Outcome(StepState.FAILED, "Render still shows auto-deploy on")
                    return _done("auto-deploy is off: the next push won't ship by itself")
                case WaitLiveStep():
                    return await self._wait_live(step, ctx)
                case HealthCheckStep():
                    return await self._health(step, ctx)
                case MessageStep(text=text):
                    await self.say(text.format(service=ctx.plan.service))
                    return _done("posted")
                case PauseStep(wait=wait):
                    await self.sleep(wait.total_seconds())
                    return _done(f"waited {short_duration(wait)}")
                case ApprovalStep():
                    approver = await self.ask_approval(step)
                    if approver is None:
                        return _Outcome(StepState.FAILED, "not approved")
                    return _done(stored_text(Text("approved by ", Mention(approver))))  # as stored
        except RenderError as exc:
            return _Outcome(StepState.FAILED, f"Render: {exc}")
        raise AssertionError(f"unhandled step {step!r}")

    async def _rollback(self, ctx: RunContext) -> _Outcome:
        target = ctx.plan.target_deploy
        if target is None:
            return _Outcome(StepState.FAILED, "no earlier deploy to roll back to")
        await self._mark_baseline(ctx)
        deploy = await self.api.rollback(ctx.plan.service_id, target.id)
        if deploy is None:
            ctx.deploy_id = None
            return _done(f"Render queued the rollback to {target.id} (behind another deploy)")
        ctx.deploy_id = deploy.id
        return _done(f"Render started rollback deploy {deploy.id} to {target.id}")

    async def _wait_live(self, step: WaitLiveStep, ctx: RunContext) -> _Outcome:
        deadline = self._clock() + step.timeout.total_seconds()
        poll = step.poll.total_seconds()
        while True:
            try:
                deploy = await self._watched(ctx)
            except RenderError as exc:  # Render busy or flaky: the deploy may well go on
                ctx.last_status = f"unreadable ({exc})"
                deploy = None
            if deploy is not None:
                ctx.last_status = deploy.status.value
                if deploy.status is DeployStatus.LIVE:
                    return _done(f"{deploy.id} is live")
                if deploy.status is DeployStatus.DEACTIVATED:
                    return _Outcome(
                        StepState.FAILED, f"{deploy.id} was superseded by a newer deploy"
                    )
                if deploy.status.failed:
                    return _Outcome(StepState.FAILED, f"{deploy.id} ended {deploy.status.value}")
            if self._clock() + poll > deadline:
                last = ctx.last_status or "no status"
                return _Outcome(
                    StepState.FAILED,
                    f"{NOT_CONFIRMED}: not live after {short_duration(step.timeout)}"
                    f" (Render: {last})",
                )
            await self.sleep(poll)
            poll = min(poll * 2, step.poll.total_seconds() * 6)

    async def _watched(self, ctx: RunContext) -> RenderDeploy | None:
        """The deploy this run waits for: the one it made, else the first newer than the
        baseline (None while Render hasn't made it yet)."""
        if ctx.deploy_id is not None:
            return await self.api.deploy(ctx.plan.service_id, ctx.deploy_id)
        newest = await self.api.deploys(ctx.plan.service_id, limit=1)
        if not newest or newest[0].id == ctx.baseline:
            return None
        ctx.deploy_id = newest[0].id
        return newest[0]

    async def _mark_baseline(self, ctx: RunContext) -> None:
        newest = await self.api.deploys(ctx.plan.service_id, limit=1)
        ctx.baseline = newest[0].id if newest else None

    async def _health(self, step: HealthCheckStep, ctx: RunContext) -> _Outcome:
        url = step.url or ctx.plan.health_url
        if url is None:
            return _Outcome(StepState.FAILED, "no health URL (set services.<name>.health_url)")
        seen = "no answer"
        for attempt in range(step.retries):
            if attempt:
                await self.sleep(step.interval.total_seconds())
            try:
                status, body = await self.probe.get(url, within=10.0)
            except (OSError, TimeoutError) as exc:
                seen = f"no answer ({type(exc).__name__})"
                continue
            seen = f"{status}"
            if status == step.expect_status and (
                step.expect_body is None or step.expect_body in body
            ):
                return _done(f"{url} answered {status}")
        return _Outcome(
            StepState.FAILED,
            f"{NOT_CONFIRMED}: {url} answered {seen} after {step.retries} tries"
            f" (wanted {step.expect_status})",
        )


def _done(detail: str) -> _Outcome:
    return _Outcome(StepState.SUCCEEDED, detail)


def run_steps(records: Sequence[StepRecord]) -> str:
    """The state of a whole run from its stored steps: done, failed or not confirmed."""
    failed = [r for r in records if r.state is StepState.FAILED]
    if not failed:
        return "done" if all(r.state is StepState.SUCCEEDED for r in records) else "running"
    return "not_confirmed" if failed[0].detail.startswith(NOT_CONFIRMED) else "failed"
