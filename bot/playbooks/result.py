"""What a run's messages say, worded from every step's stored state and from what Render
reports when the run ends — never from what the bot hoped happened.

A result has a headline (done, FAILED or NOT CONFIRMED at a named step, cancelled, or
interrupted), then what Render reports now (the deploy and commit the service is on, read
at the end: "unknown" when Render doesn't answer), then auto-deploy (only for playbooks
that turn it off, and "off" only when a step turned it off and Render still shows it off),
then one line per step. ✅ marks only what a step proved. Plain words: the fronts add any
markup.
"""

from __future__ import annotations

__all__ = [
    "FinalState",
    "check_render",
    "current_step",
    "describe_interrupted",
    "describe_result",
    "describe_status",
    "interrupted_event",
    "read_final",
]

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from bot.durations import short_duration
from bot.errors import RenderError
from bot.playbooks.model import StepState
from bot.playbooks.plans import RunView
from bot.playbooks.ports import DeployStatus, RenderAPI, RenderDeploy, RenderService, StepRecord
from bot.playbooks.runner import NOT_CONFIRMED, run_steps

T = TypeVar("T")
_ACTIONS = ("rollback", "deploy", "restart", "suspend", "resume")
_FINISHED = ("done", "failed", "not_confirmed")


@dataclass(frozen=True)
class FinalState:
    """What Render reported at the end of a run; None where it didn't answer (`problem`)."""

    service: RenderService | None
    deploys: Sequence[RenderDeploy] | None  # newest first
    problem: str = ""


async def read_final(api: RenderAPI, service_id: str) -> FinalState:
    """The service and its latest deploys, read together; each may be unknown."""
    (service, service_problem), (deploys, deploys_problem) = await asyncio.gather(
        _attempt(api.service(service_id)), _attempt(api.deploys(service_id, limit=10))
    )
    return FinalState(service, deploys, deploys_problem or service_problem)


async def _attempt(call: Awaitable[T]) -> tuple[T | None, str]:
    try:
        return await call, ""
    except RenderError as exc:
        return None, str(exc)


# --- the message at the end of a run ----------------------------------------------------


def describe_result(
    view: RunView, records: Sequence[StepRecord], final: FinalState, *, cancelled: bool = False
) -> str:
    """The run's result: its headline, what Render reports now, and each step."""
    return "\n".join(
        [
            _headline(view, records, final, cancelled=cancelled),
            _render_now(view, records, final),
            *_auto_deploy(view, records, final),
            *_step_lines(view, records),
        ]
    )


def _headline(
    view: RunView, records: Sequence[StepRecord], final: FinalState, *, cancelled: bool
) -> str:
    n = len(view.kinds)
    if cancelled:
        done = sum(r.state is StepState.SUCCEEDED for r in records)
        return (
            f"⚠️ {view.head}: CANCELLED after {done} of {n} step{_s(n)} succeeded; "
            "what they did stays done."
        )
    state = run_steps(records)
    if state == "done":
        did = ", then ".join(_achievements(view, records, final))
        every = "the 1 step succeeded" if n == 1 else f"all {n} steps succeeded"
        return f"✅ {view.head}: done — {did}; {every}." if did else f"✅ {view.head}: {every}."
    failed = next((r for r in records if r.state is StepState.FAILED), None)
    if failed is None:  # stopped before its end without a failure (its run was taken over)
        done = sum(r.state is StepState.SUCCEEDED for r in records)
        return f"⚠️ {view.head}: STOPPED after {done} of {n} step{_s(n)} succeeded."
    where = f"step {failed.index + 1} of {n} ({failed.kind})"
    rest = _not_run(view, records)
    if state == "not_confirmed":
        reason = failed.detail.removeprefix(f"{NOT_CONFIRMED}: ")
        return (
            f"⚠️ {view.head}: NOT CONFIRMED at {where}: {_sentence(reason)}{rest} "
            "Check Render before trying again."
        )
    return f"❌ {view.head}: FAILED at {where}: {_sentence(failed.detail)}{rest}"


def _achievements(view: RunView, records: Sequence[StepRecord], final: FinalState) -> list[str]:
    """What the run's actions did, in order (checks only confirm them)."""
    did = []
    for r in records:
        if r.state is not StepState.SUCCEEDED or r.kind not in _ACTIONS:
            continue
        match r.kind:
            case "rollback":
                did.append(f"rolled back to {_deploy_words(view.target_deploy)}")
            case "deploy":
                made = _find(final, r.deploy_id)
                commit = (made.commit_id if made else None) or view.commit
                did.append(f"deployed {commit[:7]}" if commit else "deployed the branch head")
            case "restart":
                did.append("restarted")
            case "suspend":
                did.append("suspended")
            case "resume":
                did.append("resumed")
    return did


def _not_run(view: RunView, records: Sequence[StepRecord]) -> str:
    """ " Not run: step 3 (wait_live), step 4 (health_check)." for the steps skipped."""
    skipped = [r for r in records if r.state is StepState.SKIPPED]
    if not skipped:
        return ""
    names = ", ".join(f"step {r.index + 1} ({r.kind})" for r in skipped)
    return f" Not run: {names}."


def _render_now(view: RunView, records: Sequence[StepRecord], final: FinalState) -> str:
    """The deploy (and commit) the service is left on, as Render reports it now."""
    if final.deploys is None:
        return (
            f"Render now: unknown — Render didn't answer at the end ({final.problem}). "
            f"Check the service's deploys before acting: {view.dashboard_url}"
        )
    live = next((d for d in final.deploys if d.status is DeployStatus.LIVE), None)
    if final.service is not None and final.service.suspended:
        said = f"Render now: {view.service} is suspended"
        if live is not None:
            said += f" (its last live deploy: {_deploy_words(live)})"
    elif live is not None:
        said = f"Render now: {view.service} is on {_deploy_words(live)}, live"
    else:
        said = f"Render now: {view.service} has no live deploy"
    made = _last_deploy(records)
    if made is not None and (live is None or made != live.id):
        mine = _find(final, made)
        said += (
            f"; this run's deploy {made} {_status_words(mine.status)}"
            if mine is not None
            else f"; this run's deploy {made} isn't among its latest deploys"
        )
    elif made is None and final.deploys and final.deploys[0] is not live:
        newest = final.deploys[0]
        said += f"; the newest deploy {newest.id} {_status_words(newest.status)}"
    if final.service is None:
        said += f"; the service itself didn't answer ({final.problem})"
    return said + "."


def _auto_deploy(view: RunView, records: Sequence[StepRecord], final: FinalState) -> list[str]:
    """Only for playbooks that turn auto-deploy off; "off" only on a step's and Render's word."""
    if "autodeploy_off" not in view.kinds:
        return []
    step = next((r for r in records if r.kind == "autodeploy_off"), None)
    turned_off = step is not None and step.state is StepState.SUCCEEDED
    if not turned_off:
        if final.service is not None and final.service.auto_deploy:
            return ["Auto-deploy is still on: this run didn't turn it off."]
        return ["Auto-deploy was not turned off by this run."]
    if final.service is None:
        return ["Whether auto-deploy is still off is unknown: Render didn't answer at the end."]
    if final.service.auto_deploy:
        return ["⚠️ Render shows auto-deploy on again: the next push ships by itself."]
    return ["Auto-deploy is off: turn it back on once the fix is merged."]


def _step_lines(view: RunView, records: Sequence[StepRecord]) -> list[str]:
    stored = {r.index: r for r in records}
    lines = []
    for index, kind in enumerate(view.kinds):
        r = stored.get(index)
        name = f"step {index + 1} {kind}"
        if r is None or r.state is StepState.PENDING:
            lines.append(f"– {name}: not started")
        elif r.state is StepState.SUCCEEDED:
            lines.append(f"✅ {name}: {r.detail or 'done'}")
        elif r.state is StepState.FAILED:
            mark = "⚠️" if r.detail.startswith(NOT_CONFIRMED) else "❌"
            lines.append(f"{mark} {name}: {r.detail}")
        elif r.state is StepState.SKIPPED:
            lines.append(f"– {name}: skipped")
        else:  # running or interrupted: the bot running it stopped mid-step
            lines.append(f"⚠️ {name}: was running when the bot stopped: outcome unknown")
    return lines


# --- a run whose bot stopped ------------------------------------------------------------


def describe_interrupted(
    view: RunView, records: Sequence[StepRecord], final: FinalState, lease: timedelta
) -> str:
    """A run left by a bot that stopped: where it was, what to check, what Render says."""
    return "\n".join(
        [
            f"⚠️ {view.head}: INTERRUPTED {_where(view, records)} — the bot running it "
            f"stopped (no sign of it for {short_duration(lease)}). {view.service} is free "
            f"for a new run. {check_render(view, records)}",
            _render_now(view, records, final),
            *_auto_deploy(view, records, final),
            *_step_lines(view, records),
        ]
    )


def interrupted_event(view: RunView, records: Sequence[StepRecord]) -> str:
    """The incident timeline's line for it."""
    return (
        f"R{view.run_id} {view.playbook} interrupted {_where(view, records)}: the bot "
        f"running it stopped. {check_render(view, records)}"
    )


def check_render(view: RunView, records: Sequence[StepRecord]) -> str:
    made = _last_deploy(records)
    if made is not None:
        return (
            "Check the service's deploys in Render before acting: "
            f"{view.dashboard_url}/deploys/{made} ({made} is the deploy this run made)."
        )
    if view.live_deploy is not None:
        known = view.live_deploy.id
        return (
            "Check the service's deploys in Render before acting: "
            f"{view.dashboard_url}/deploys/{known} ({known} was live when it was planned)."
        )
    return f"Check the service's deploys in Render before acting: {view.dashboard_url}."


def _where(view: RunView, records: Sequence[StepRecord]) -> str:
    n = len(view.kinds)
    running = next(
        (r for r in records if r.state in (StepState.RUNNING, StepState.INTERRUPTED)), None
    )
    if running is not None:
        return f"during step {running.index + 1} of {n} ({running.kind})"
    ended = [r for r in records if r.state is not StepState.PENDING]
    if not ended:
        return "before its first step"
    last = ended[-1]
    return f"after step {last.index + 1} of {n} ({last.kind})"


# --- where a run is, for a second click --------------------------------------------------


def current_step(view: RunView, records: Sequence[StepRecord]) -> str:
    """ "step 3 of 4: wait_live": the step running, else the next one to run."""
    n = len(view.kinds)
    running = next((r for r in records if r.state is StepState.RUNNING), None)
    if running is not None:
        index = running.index
    else:
        ended = {r.index for r in records if r.state is not StepState.PENDING}
        index = next((i for i in range(n) if i not in ended), n - 1)
    return f"step {index + 1} of {n}: {view.kinds[index]}" if n else "no steps"


def describe_status(
    view: RunView, state: str, started: bool, result: str, records: Sequence[StepRecord], who: str
) -> str:
    """What is true of a run now, from its stored state (a second click on Confirm)."""
    run = f"R{view.run_id}"
    match state:
        case "planned":
            return f"{run} is planned and not confirmed yet."
        case "awaiting_approval" if not started:
            return (
                f"{run} is already confirmed by {who} and waits for a second responder's approval."
            )
        case "awaiting_approval":
            return (
                f"{run} is already running ({current_step(view, records)}, waiting for a "
                f"second responder's approval), confirmed by {who}."
            )
        case "running":
            return f"{run} is already running ({current_step(view, records)}), confirmed by {who}."
        case "cancelled":
            done = sum(r.state is StepState.SUCCEEDED for r in records)
            when = f"after {done} of {len(view.kinds)} steps" if started else "before it ran"
            return f"{run} was cancelled {when}: nothing more of it runs."
        case "interrupted":
            return (
                f"{run} was interrupted {_where(view, records)}: the bot running it stopped. "
                f"{check_render(view, records)}"
            )
        case "dry_run":
            return f"{run} is a dry run: it never runs."
        case _ if state in _FINISHED:
            headline = result.splitlines()[0] if result else state
            return f"{run} already ran, confirmed by {who}. Its result: {headline}"
    return f"{run} is {state}."


# --- words ------------------------------------------------------------------------------


def _deploy_words(deploy: RenderDeploy | None) -> str:
    if deploy is None:
        return "no deploy"
    commit = (deploy.commit_id or "")[:7]
    about = f"{commit} {deploy.commit_message[:60]}".strip()
    return f"{deploy.id} ({about})" if about else deploy.id


def _status_words(status: DeployStatus) -> str:
    if status is DeployStatus.DEACTIVATED:
        return "is deactivated (a newer deploy replaced it)"
    if status.failed:
        return f"ended {status.value}"
    if status is DeployStatus.LIVE:
        return "is live"
    return f"is still {status.value}"


def _find(final: FinalState, deploy_id: str | None) -> RenderDeploy | None:
    if deploy_id is None or final.deploys is None:
        return None
    return next((d for d in final.deploys if d.id == deploy_id), None)


def _last_deploy(records: Sequence[StepRecord]) -> str | None:
    """The deploy the run made (or found) last, from its stored steps."""
    return next((r.deploy_id for r in reversed(records) if r.deploy_id), None)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _s(n: int) -> str:
    return "" if n == 1 else "s"
