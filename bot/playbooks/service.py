"""Playbook use-cases: list, deploys, plan (shown with Confirm / Cancel), decide, run.

A plan fixes every id the run will act on (the live deploy, the target and its commit)
before anyone confirms. Confirming moves the stored run from `planned` exactly once, so a
double click runs it once; a second person approves when the playbook asks for it (by
default for production services), and never the requester. One run per service at a time,
across processes (a unique index on active runs).
"""

from __future__ import annotations

__all__ = ["PlaybookService"]

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import log_messages as msg
from bot.config import LuciaConfig, Service
from bot.errors import RenderError, UserError
from bot.incidents import commands as cmd
from bot.incidents.model import EventKind, TimelineEvent
from bot.incidents.ports import IncidentStore
from bot.incidents.replies import Noted, PlaybookPlan, Reply
from bot.incidents.service import Invocation
from bot.playbooks.model import (
    Approval,
    ApprovalStep,
    Playbook,
    PlaybookSet,
    RunState,
    StepState,
)
from bot.playbooks.ports import DeployStatus, PlaybookStore, RenderAPI, RenderDeploy, StoredRun
from bot.playbooks.runner import HealthProbe, Plan, Runner, StepRecord, run_steps
from bot.types import Clock

log = logging.getLogger(__name__)

Responders = Callable[[], Awaitable[set[str]]]
Say = Callable[[str | None, str], Awaitable[None]]  # (channel, text)
Spawn = Callable[[Coroutine[Any, Any, None]], None]
Ask = Callable[[str | None, PlaybookPlan], Awaitable[None]]  # a plan with buttons, mid-run
APPROVAL_POLL = 1.0  # seconds between looks at an approval step's run
PLAN_LIFETIME = timedelta(minutes=15)  # an older plan is planned again, not confirmed
Record = Callable[[TimelineEvent], Awaitable[None]]  # store and show a timeline event


class PlaybookService:
    def __init__(
        self,
        playbooks: PlaybookSet,
        config: LuciaConfig,
        store: PlaybookStore,
        api: RenderAPI | None,
        probe: HealthProbe,
        incidents: IncidentStore,
        responders: Responders,
        say: Say,
        record: Record,
        spawn: Spawn,
        ask: Ask,
        clock: Clock,
        own_service_id: str | None = None,  # RENDER_SERVICE_ID: this bot's own service
    ) -> None:
        self._own_service_id = own_service_id
        self._playbooks = playbooks
        self._config = config
        self._store = store
        self._api = api
        self._probe = probe
        self._incidents = incidents
        self._responders = responders
        self._say = say
        self._record = record
        self._spawn = spawn
        self._ask = ask
        self._clock = clock

    async def run(self, command: cmd.PlaybookCommand, inv: Invocation) -> Reply:
        match command:
            case cmd.ListPlaybooks():
                return Noted(await self._listing())
            case cmd.ShowDeploys(service=name):
                return Noted(await self._deploys(name))
            case cmd.RunPlaybook():
                return await self._plan(command, inv)
            case cmd.DecideRun(run_id=run_id, decision=decision):
                return await self._decide(run_id, decision, inv)
        raise AssertionError(f"unhandled playbook command {command!r}")

    # --- reading --------------------------------------------------------------------

    async def _listing(self) -> str:
        lines = ["*Playbooks*"]
        for name, playbook in sorted(self._playbooks.playbooks.items()):
            steps = f"{len(playbook.steps)} step{'s' if len(playbook.steps) != 1 else ''}"
            lines.append(f"• *{name}* ({steps}): {playbook.description}")
        for problem in self._playbooks.problems:
            lines.append(f"⚠️ not loaded: {problem.location}: {problem.message}")
        drills = await self._store.recent("drill", 10)
        finished = [r for r in drills if r.state in ("done", "failed", "not_confirmed")]
        for run in finished[:3]:
            took = f" in {run.seconds:.0f} s" if run.seconds is not None else ""
            lines.append(f"Drill R{run.id} on {run.service}: {run.state}{took} — {run.result}")
        return "\n".join(lines)

    async def _deploys(self, name: str) -> str:
        service = self._service(name)
        api = self._render()
        try:
            deploys = await api.deploys(service.render_service_id, limit=10)
        except RenderError as exc:
            raise UserError(str(exc)) from None
        if not deploys:
            return f"{name} has no deploys on Render."
        now = self._clock()
        lines = [f"*Deploys of {name}* (newest first)"]
        for d in deploys:
            age = f"{_ago(now, d.created_at)} ago" if d.created_at else "?"
            commit = (d.commit_id or "")[:7] or "no commit"
            lines.append(f"• `{d.id}` {d.status.value} · {commit} {d.commit_message[:60]} · {age}")
        return "\n".join(lines)

    # --- planning -------------------------------------------------------------------

    async def _plan(self, command: cmd.RunPlaybook, inv: Invocation) -> Reply:
        playbook = self._playbooks.playbooks.get(command.playbook)
        if playbook is None:
            known = ", ".join(sorted(self._playbooks.playbooks)) or "none are loaded"
            raise UserError(f"There is no playbook `{command.playbook}` ({known}).")
        name = command.service or playbook.service
        if name is None:
            raise UserError(f"Run {playbook.name} on which service? `{cmd.usage('playbook')}`")
        service = self._service(name)
        if not command.dry_run and inv.actor not in await self._responders():
            raise UserError(
                "Only responders (the launch-gate owners and `playbooks.responders` in "
                "lucia.yaml) may run a playbook; anyone may add `--dry-run`."
            )
        plan = await self._make_plan(playbook, name, service, command.ref)
        incident = await self._incidents.find_by_channel(inv.channel_id) if inv.channel_id else None
        state = RunState.DRY_RUN if command.dry_run else RunState.PLANNED
        run = await self._store.create_run(
            playbook=playbook.name,
            service=name,
            state=state.value,
            plan=_plan_json(plan),
            requested_by=inv.actor,
            incident_number=incident.number if incident else None,
            channel_id=inv.channel_id,
            at=self._clock(),
        )
        if run is None:
            busy = await self._store.active_run(name)
            who = (
                f"<@{busy.requested_by}> has R{busy.id} ({busy.playbook}, {busy.state})"
                if busy
                else "another run is active"
            )
            raise UserError(f"{name} is busy: {who}. One run per service at a time.")
        text = _describe_plan(run.id, plan, self._needs_approval(playbook, service))
        if command.dry_run:
            return PlaybookPlan(run.id, f"Dry run — nothing will change.\n{text}")
        return PlaybookPlan(run.id, text, ("confirm", "cancel"))

    async def _make_plan(
        self, playbook: Playbook, name: str, service: Service, ref: str | None
    ) -> Plan:
        api = self._render()
        sid = service.render_service_id
        if sid == self._own_service_id:
            raise UserError("That is this bot's own service: roll it back from Render's dashboard.")
        try:
            current = await api.service(sid)
            deploys = list(await api.deploys(sid, limit=50))
        except RenderError as exc:
            raise UserError(f"I couldn't read {name} from Render: {exc}") from None
        kinds = {s.kind for s in playbook.steps}
        if current.suspended and "resume" not in kinds:
            raise UserError(f"{name} is suspended on Render: resume it first.")
        live = next((d for d in deploys if d.status is DeployStatus.LIVE), None)
        target = None
        if "rollback" in kinds:
            target = _rollback_target(deploys, live, ref)
        commit = ref if "deploy" in kinds and "rollback" not in kinds else None
        if playbook.name == "drill" and live is not None:
            commit = live.commit_id  # forward again to what was live before the drill
        return Plan(
            playbook=playbook.name,
            service=name,
            service_id=sid,
            health_url=service.health_url,
            live_deploy=live,
            target_deploy=target,
            commit=commit,
            steps=tuple(playbook.steps),
        )

    def _needs_approval(self, playbook: Playbook, service: Service) -> bool:
        """A second person for production always; `never` only spares other services."""
        return service.production or playbook.approval is Approval.ALWAYS

    # --- deciding -------------------------------------------------------------------

    async def _decide(self, run_id: int, decision: str, inv: Invocation) -> Reply:
        run = await self._store.run(run_id)
        if run is None:
            raise UserError(f"There is no run R{run_id}.")
        now = self._clock()
        if inv.actor != run.requested_by and inv.actor not in await self._responders():
            raise UserError("Only responders (or whoever asked for the run) may decide on it.")
        if decision == "cancel":
            moved = await self._store.move(
                run_id, ("planned", "awaiting_approval", "running"), "cancelled", now
            )
            if moved is None:
                raise UserError(f"R{run_id} is {run.state}: it can't be cancelled now.")
            if run.state == "running":  # a run stops before its next step; done ones stay done
                return Noted(
                    f"Cancelled R{run_id}: no further step will start. Steps already done "
                    "stay done: check Render's dashboard."
                )
            return Noted(f"Cancelled R{run_id}: nothing was changed.")
        if inv.actor not in await self._responders():
            raise UserError("Only responders may confirm or approve a run.")
        playbook = self._playbooks.playbooks.get(run.playbook)
        if playbook is None:
            raise UserError(f"The playbook {run.playbook} is no longer loaded.")
        if decision == "confirm":
            if inv.actor != run.requested_by:
                raise UserError(
                    f"Only <@{run.requested_by}>, who asked for R{run_id}, confirms it."
                )
            await self._still_current(run)
            needs = self._needs_approval(playbook, self._service(run.service))
            to = "awaiting_approval" if needs else "running"
            moved = await self._store.move(run_id, ("planned",), to, now)
            if moved is None:
                return Noted(f"R{run_id} is already {run.state}: confirmed once, run once.")
            if needs:  # asked in the channel, where a second responder sees it
                await self._ask(
                    run.channel_id,
                    PlaybookPlan(
                        run_id,
                        f"<@{run.requested_by}> confirmed R{run_id} ({run.playbook} on "
                        f"{run.service}); a second responder approves it.",
                        ("approve", "cancel"),
                    ),
                )
                return Noted(f"R{run_id} waits for a second responder's approval in the channel.")
            self._start(moved)
            return Noted(f"Running R{run_id} ({run.playbook} on {run.service}).")
        if inv.actor == run.requested_by:
            raise UserError("You asked for this run: a second person approves it.")
        if not run.started:
            await self._still_current(run)
        moved = await self._store.move(run_id, ("awaiting_approval",), "running", now, by=inv.actor)
        if moved is None:
            return Noted(f"R{run_id} is {run.state}: nothing to approve.")
        if run.started:  # an approval step: the run (in whichever process) carries on
            return Noted(f"Approved: R{run_id} carries on.")
        self._start(moved)
        return Noted(f"Approved: running R{run_id} ({run.playbook} on {run.service}).")

    async def _still_current(self, run: StoredRun) -> None:
        """A plan is acted on only while it still describes the service: fresh, and with
        the same deploy live (a fix shipped since must not be rolled back by an old plan)."""
        age = self._clock() - run.created_at
        live = (run.plan.get("live_deploy") or {}).get("id")
        if age > PLAN_LIFETIME:
            stale = (
                f"R{run.id} was planned {int(age.total_seconds() // 60)} min ago: plan it again."
            )
        else:
            try:
                deploys = await self._render().deploys(run.plan["service_id"], limit=5)
            except RenderError as exc:
                raise UserError(f"I couldn't check {run.service} on Render: {exc}") from None
            now_live = next((d.id for d in deploys if d.status is DeployStatus.LIVE), None)
            if now_live == live:
                return
            stale = (
                f"{run.service} changed since R{run.id} was planned (live: {now_live}, "
                f"planned against {live}): R{run.id} is cancelled; plan it again."
            )
        await self._store.move(run.id, ("planned", "awaiting_approval"), "cancelled", self._clock())
        raise UserError(stale)

    # --- running --------------------------------------------------------------------

    def _start(self, run: StoredRun) -> None:
        self._spawn(self._execute(run))

    async def _execute(self, run: StoredRun) -> None:
        plan = _plan_from_json(run.plan, self._playbooks.playbooks[run.playbook])

        async def say(text: str) -> None:
            await self._say(run.channel_id, text)

        async def record(step: StepRecord) -> None:
            await self._store.record_step(
                run.id,
                step.index,
                step.kind,
                step.state.value,
                step.detail,
                step.seconds,
                self._clock(),
            )
            if run.incident_number is not None and step.state is not StepState.RUNNING:
                await self._record(
                    TimelineEvent(
                        run.incident_number,
                        self._clock(),
                        EventKind.PLAYBOOK,
                        run.requested_by,
                        f"R{run.id} {run.playbook} step {step.index + 1} {step.kind}: "
                        f"{step.state.value}" + (f" — {step.detail}" if step.detail else ""),
                        {"run": run.id, "step": step.index, "state": step.state.value},
                    )
                )

        async def ask_approval(step: ApprovalStep) -> str | None:
            return await self._ask_approval(run, step)

        async def proceed() -> bool:
            current = await self._store.run(run.id)
            return current is not None and current.state == "running"

        runner = Runner(self._render(), self._probe, say, ask_approval)
        try:
            records = await runner.run(plan, record, proceed)
            if not await proceed():  # cancelled while it ran
                state = "cancelled"
                done = [r for r in records if r.state is StepState.SUCCEEDED]
                result = (
                    f"⚠️ R{run.id} {run.playbook} on {run.service} was cancelled after "
                    f"{len(done)} of {len(records)} steps; those stay done. Check Render."
                )
            else:
                state = run_steps(records)
                result = describe_result(run.id, plan, records)
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
        await self._store.finish(run.id, state, result, self._clock())
        await self._say(run.channel_id, result)

    async def _ask_approval(self, run: StoredRun, step: ApprovalStep) -> str | None:
        """Park the run until a second responder approves it (in the database, so the
        button may be clicked on any process), or until the step's timeout."""
        now = self._clock()
        await self._store.move(run.id, ("running",), "awaiting_approval", now)
        await self._ask(
            run.channel_id,
            PlaybookPlan(
                run.id,
                f"R{run.id} {run.playbook} on {run.service} waits: {step.message} "
                f"A second responder approves (not <@{run.requested_by}>).",
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

    # --- helpers --------------------------------------------------------------------

    def _service(self, name: str) -> Service:
        service = self._config.services.get(name)
        if service is None:
            known = ", ".join(sorted(self._config.services)) or "none in lucia.yaml"
            raise UserError(f"There is no service `{name}` ({known}).")
        return service

    def _render(self) -> RenderAPI:
        if self._api is None:
            raise UserError("Render isn't configured on this bot (set RENDER_API_KEY).")
        return self._api


def _rollback_target(
    deploys: list[RenderDeploy], live: RenderDeploy | None, ref: str | None
) -> RenderDeploy:
    if ref is not None:
        found = next((d for d in deploys if d.id == ref), None)
        if found is None:
            raise UserError(f"{ref} isn't among the service's last 50 deploys.")
        if live is not None and found.id == live.id:
            raise UserError(f"{ref} is the deploy that is live now.")
        return found
    if live is not None and live.trigger == "rollback":
        raise UserError(
            f"The live deploy {live.id} is itself a rollback: name the deploy to go back to "
            "(`/lucia deploys <service>` lists them)."
        )
    older = [
        d
        for d in deploys
        if d.status is DeployStatus.DEACTIVATED
        and (live is None or (d.created_at and live.created_at and d.created_at < live.created_at))
        and (live is None or live.commit_id is None or d.commit_id != live.commit_id)
    ]
    if not older:
        raise UserError("There is no earlier deploy that was live to roll back to.")
    return older[0]  # newest first


def _describe_plan(run_id: int, plan: Plan, approval: bool) -> str:
    lines = [f"*R{run_id}: {plan.playbook} on {plan.service}* (`{plan.service_id}`)"]
    lines.append(f"Live now: {_deploy_line(plan.live_deploy)}")
    if plan.target_deploy is not None:
        lines.append(f"Roll back to: {_deploy_line(plan.target_deploy)}")
    if plan.commit:
        lines.append(f"Deploy commit: `{plan.commit[:12]}`")
    lines.append("Steps: " + " → ".join(s.kind for s in plan.steps))
    if approval:
        lines.append("A second responder approves it after you confirm.")
    return "\n".join(lines)


def _deploy_line(deploy: RenderDeploy | None) -> str:
    if deploy is None:
        return "nothing"
    commit = (deploy.commit_id or "")[:7]
    return f"`{deploy.id}` ({commit} {deploy.commit_message[:60]})".replace(" )", ")")


def describe_result(run_id: int, plan: Plan, records: list[StepRecord]) -> str:
    """What the run proved, from its step states: never more."""
    state = run_steps(records)
    head = f"R{run_id} {plan.playbook} on {plan.service}"
    proved = {r.kind for r in records if r.state is StepState.SUCCEEDED}
    if state == "done":
        if {"rollback", "wait_live", "health_check"} <= proved and plan.target_deploy:
            checked = [r.detail for r in records if r.kind == "health_check"]
            health = f", and healthy ({checked[-1]})" if checked else ""
            return (
                f"✅ {head}: rolled back to {_deploy_line(plan.target_deploy)}; "
                f"Render reports it live{health}. Auto-deploy is off: turn it back on once "
                "the fix is merged."
            )
        return f"✅ {head}: done — " + "; ".join(r.detail for r in records if r.detail)
    failed = next(r for r in records if r.state is StepState.FAILED)
    if state == "not_confirmed":
        return (
            f"⚠️ {head}: NOT CONFIRMED at step {failed.index + 1} ({failed.kind}): "
            f"{failed.detail}. Check Render's dashboard before trying again."
        )
    return (
        f"❌ {head}: FAILED at step {failed.index + 1} ({failed.kind}): {failed.detail}. "
        "The steps after it were skipped."
    )


def _plan_json(plan: Plan) -> dict[str, Any]:
    def deploy(d: RenderDeploy | None) -> dict[str, Any] | None:
        if d is None:
            return None
        data = asdict(d)
        data["status"] = d.status.value
        for key in ("created_at", "finished_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    return {
        "service": plan.service,
        "service_id": plan.service_id,
        "health_url": plan.health_url,
        "live_deploy": deploy(plan.live_deploy),
        "target_deploy": deploy(plan.target_deploy),
        "commit": plan.commit,
    }


def _plan_from_json(data: dict[str, Any], playbook: Playbook) -> Plan:
    def deploy(d: dict[str, Any] | None) -> RenderDeploy | None:
        if d is None:
            return None
        times = {
            k: datetime.fromisoformat(d[k]) if d.get(k) else None
            for k in ("created_at", "finished_at")
        }
        return RenderDeploy(
            id=d["id"],
            status=DeployStatus.parse(d["status"]),
            trigger=d.get("trigger", ""),
            commit_id=d.get("commit_id"),
            commit_message=d.get("commit_message", ""),
            **times,
        )

    return Plan(
        playbook=playbook.name,
        service=data["service"],
        service_id=data["service_id"],
        health_url=data["health_url"],
        live_deploy=deploy(data["live_deploy"]),
        target_deploy=deploy(data["target_deploy"]),
        commit=data["commit"],
        steps=tuple(playbook.steps),
    )


def _ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then.astimezone(UTC)).total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
