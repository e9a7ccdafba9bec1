"""A confirmed run carried out: its steps in the background under a lease, each step
recorded and told to the channel and the incident's timeline, an approval step parked in
the database until a second responder clicks (on any process), and the result worded from
every step and Render's final read. Runs whose bot stopped are found by `sweep` when their
lease runs out, and marked interrupted with what to check."""

from __future__ import annotations

__all__ = ["APPROVAL_POLL", "RunExecutor", "configured"]

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from bot import log_messages as msg
from bot.errors import StoreUnavailable, UserError
from bot.incidents.model import EventKind, TimelineEvent
from bot.incidents.replies import PlaybookPlan
from bot.playbooks.lease import Leases
from bot.playbooks.model import ApprovalStep, PlaybookSet, StepState
from bot.playbooks.plans import RENDER_KEY_HELP, RunView, plan_from_json, run_view
from bot.playbooks.ports import (
    PlaybookStore,
    RenderAPI,
    RunChannel,
    Spawner,
    StepRecord,
    StoredRun,
    Timeline,
)
from bot.playbooks.result import (
    FinalState,
    describe_interrupted,
    describe_result,
    interrupted_event,
    read_final,
)
from bot.playbooks.runner import HealthProbe, Runner, run_steps
from bot.text import Mention, Text
from bot.types import Clock, JSONValue

log = logging.getLogger(__name__)

APPROVAL_POLL = 1.0  # seconds between looks at an approval step's run
_UNREAD = FinalState(None, None, "Render isn't configured on this bot")


def configured(api: RenderAPI | None) -> RenderAPI:
    """The Render API, or the refusal that says how to configure it."""
    if api is None:
        raise UserError(
            f"Render isn't configured on this bot: {RENDER_KEY_HELP}. "
            "Anyone may add --dry-run to see what a playbook would do without it."
        )
    return api


class RunExecutor:
    def __init__(
        self,
        playbooks: PlaybookSet,
        store: PlaybookStore,
        api: RenderAPI | None,
        probe: HealthProbe,
        channel: RunChannel,
        timeline: Timeline,
        background: Spawner,
        clock: Clock,
        leases: Leases,
    ) -> None:
        self._playbooks = playbooks
        self._store = store
        self._api = api
        self._probe = probe
        self._channel = channel
        self._timeline = timeline
        self._background = background
        self._clock = clock
        self._leases = leases

    def view(self, run: StoredRun) -> RunView:
        playbook = self._playbooks.playbooks.get(run.playbook)
        return run_view(run, tuple(s.kind for s in playbook.steps) if playbook else ())

    def start(self, run: StoredRun) -> None:
        self._background.spawn(self._execute(run), name="playbook-run")

    async def _execute(self, run: StoredRun) -> None:
        playbook = self._playbooks.playbooks[run.playbook]
        plan = plan_from_json(run.plan, playbook)
        view = self.view(run)

        async def say(text: str) -> None:
            await self._channel.say(run.channel_id, text)

        async def record(step: StepRecord) -> None:
            await self._store.record_step(run.id, step, self._clock())
            if step.state is not StepState.RUNNING:
                await self._on_timeline(
                    run,
                    f"R{run.id} {run.playbook} step {step.index + 1} {step.kind}: "
                    f"{step.state.value}" + (f" — {step.detail}" if step.detail else ""),
                    {"run": run.id, "step": step.index, "state": step.state.value},
                )

        async def ask_approval(step: ApprovalStep) -> str | None:
            return await self._ask_approval(run, step)

        async def proceed() -> bool:
            current = await self._store.run(run.id)
            return current is not None and current.state == "running"

        runner = Runner(configured(self._api), self._probe, say, ask_approval)
        try:
            async with self._leases.held(run.id):
                records = await runner.run(plan, record, proceed)
                final = await read_final(configured(self._api), plan.service_id)  # what is left
            current = await self._store.run(run.id)
            if current is not None and current.state == "interrupted":
                # A sweep took it for a run whose bot had stopped, and said so: the stored
                # outcome stands, and nothing here contradicts it.
                log.warning(msg.PLAYBOOK_RESULT_NOT_STORED, extra={"run": run.id})
                return
            cancelled = current is not None and current.state == "cancelled"
            state = "cancelled" if cancelled else run_steps(records)
            result = describe_result(view, records, final, cancelled=cancelled)
        except asyncio.CancelledError:  # the bot is shutting down mid-run
            result = (
                f"⚠️ R{run.id} {run.playbook} on {run.service}: NOT CONFIRMED — the bot shut "
                "down mid-run. Check Render's dashboard; the steps done so far are recorded."
            )
            await self._store.finish(run.id, "not_confirmed", result, self._clock())
            raise
        except Exception:
            log.exception(msg.PLAYBOOK_RUN_FAILED, extra={"run": run.id})
            state, result = "failed", f"R{run.id} stopped on an error in the bot: see its log."
        if not await self._store.finish(run.id, state, result, self._clock()):
            log.warning(msg.PLAYBOOK_RESULT_NOT_STORED, extra={"run": run.id, "state": state})
            return
        await self._channel.say(run.channel_id, result)

    async def sweep(self) -> None:
        """Mark interrupted the executing runs whose lease ran out (their bot stopped), and
        set the next sweep for when the earliest lease still held would run out."""
        now = self._clock()
        next_due: datetime | None = None
        try:
            for run in await self._store.leased_runs():
                due = self._leases.expires(run)
                if due > now:
                    next_due = due if next_due is None else min(next_due, due)
                else:
                    await self.interrupt(run)
        except StoreUnavailable as exc:  # looked at again a lease later, not forgotten
            log.warning(msg.PLAYBOOK_SWEEP_DEFERRED, extra={"error": str(exc)})
            next_due = now + self._leases.lease
        self._leases.wake(next_due)

    async def interrupt(self, run: StoredRun) -> bool:
        """Mark it interrupted (only if its lease is still out), then say so in its channel
        and on its incident's timeline. False when its bot turned out alive, or another
        sweep got there first."""
        stale_before = self._leases.stale_before()
        view = self.view(run)
        steps = await self._store.steps(run.id)
        api = self._api
        final = await read_final(api, view.service_id) if api is not None else None
        text = describe_interrupted(view, steps, final or _UNREAD, self._leases.lease)
        moved = await self._store.interrupt(run.id, stale_before, text, self._clock())
        if moved is None:
            return False
        log.warning(msg.PLAYBOOK_RUN_INTERRUPTED, extra={"run": run.id, "service": run.service})
        await self._on_timeline(
            run, interrupted_event(view, steps), {"run": run.id, "state": "interrupted"}
        )
        await self._channel.say(run.channel_id, text)
        return True

    async def _on_timeline(self, run: StoredRun, text: str, data: Mapping[str, JSONValue]) -> None:
        """On the timeline of the run's incident, if it was asked for in one."""
        if run.incident_number is not None:
            await self._timeline.record(
                TimelineEvent(
                    run.incident_number,
                    self._clock(),
                    EventKind.PLAYBOOK,
                    run.requested_by,
                    text,
                    data,
                )
            )

    async def _ask_approval(self, run: StoredRun, step: ApprovalStep) -> str | None:
        """Park the run until a second responder approves it (in the database, so the
        button may be clicked on any process), or until the step's timeout."""
        now = self._clock()
        await self._store.move(run.id, ("running",), "awaiting_approval", now)
        await self._channel.ask(
            run.channel_id,
            PlaybookPlan(
                run.id,
                Text(
                    f"R{run.id} {run.playbook} on {run.service} waits: {step.message} "
                    "A second responder approves (not ",
                    Mention(run.requested_by),
                    ").",
                ),
                ("approve", "cancel"),
            ),
        )
        deadline = now + step.timeout
        while self._clock() < deadline:
            await asyncio.sleep(APPROVAL_POLL)
            current = await self._store.run(run.id)
            if current is None or current.state == "cancelled":
                return None
            if current.state == "running":
                return current.approved_by
        await self._store.move(run.id, ("awaiting_approval",), "running", self._clock())
        return None
