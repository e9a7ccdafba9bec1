"""Playbook use-cases: list, deploys, plan (shown with Confirm / Cancel) and decide; a
confirmed run is carried out by `RunExecutor` (`execution.py`).

A plan fixes every id the run will act on (the live deploy, the target and its commit)
before anyone confirms. Confirming moves the stored run from `planned` exactly once, so a
double click runs it once; a second person approves when the playbook asks for it (by
default for production services), and never the requester. One run per service at a time,
across processes (a unique index on active runs); a run whose bot stopped is noticed when
its lease runs out (`lease.py`), marked interrupted, and its service freed.
"""

from __future__ import annotations

__all__ = ["PlaybookService"]

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import ClassVar, get_args

from bot.config import LuciaConfig, Service
from bot.errors import RenderError, UserError
from bot.incidents.ports import IncidentStore
from bot.incidents.replies import ItemList, Noted, PlaybookPlan, Reply
from bot.playbooks import commands as cmd
from bot.playbooks.execution import RunExecutor, configured
from bot.playbooks.lease import Leases, WakeAt
from bot.playbooks.model import (
    Approval,
    Playbook,
    PlaybookSet,
    RunState,
)
from bot.playbooks.plans import (
    describe_offline,
    describe_plan,
    plan_json,
    rollback_target,
)
from bot.playbooks.ports import (
    DeployStatus,
    PlaybookStore,
    RenderAPI,
    Responders,
    RunChannel,
    Spawner,
    StoredRun,
    Timeline,
)
from bot.playbooks.result import (
    describe_status,
)
from bot.playbooks.runner import HealthProbe, Plan
from bot.text import Code, Mention, Strong, Text
from bot.types import Clock
from bot.vocabulary import Invocation

log = logging.getLogger(__name__)

PLAN_LIFETIME = timedelta(minutes=15)  # an older plan is planned again, not confirmed
NameOf = Callable[[str], Awaitable[str]]  # a Slack user id → the person's name, in words


class PlaybookService:
    handles: ClassVar[tuple[type, ...]] = get_args(cmd.PlaybookCommand)

    def __init__(
        self,
        playbooks: PlaybookSet,
        config: LuciaConfig,
        store: PlaybookStore,
        api: RenderAPI | None,
        probe: HealthProbe,
        incidents: IncidentStore,
        responders: Responders,
        channel: RunChannel,
        timeline: Timeline,
        background: Spawner,
        clock: Clock,
        *,
        own_service_id: str | None = None,  # RENDER_SERVICE_ID: this bot's own service
        wake_at: WakeAt | None = None,  # a one-shot timer for `sweep`; None: on demand only
        name_of: NameOf | None = None,  # None: the launch-gate names in lucia.yaml
    ) -> None:
        self._own_service_id = own_service_id
        self._leases = Leases(store, clock, config.playbooks.run_lease, wake_at)
        self._name_of = name_of
        self._playbooks = playbooks
        self._config = config
        self._store = store
        self._api = api
        self._incidents = incidents
        self._responders = responders.responders
        self._channel = channel
        self._clock = clock
        self._runs = RunExecutor(
            playbooks, store, api, probe, channel, timeline, background, clock, self._leases
        )

    async def run(self, command: cmd.PlaybookCommand, inv: Invocation) -> Reply:
        match command:
            case cmd.ListPlaybooks():
                return await self._listing()
            case cmd.ShowDeploys(service=name):
                return await self._deploys(name)
            case cmd.RunPlaybook():
                return await self._plan(command, inv)
            case cmd.DecideRun(run_id=run_id, decision=decision):
                return await self._decide(run_id, decision, inv)
        raise AssertionError(f"unhandled playbook command {command!r}")

    # --- reading --------------------------------------------------------------------

    async def _listing(self) -> ItemList:
        items = []
        for name, playbook in sorted(self._playbooks.playbooks.items()):
            steps = f"{len(playbook.steps)} step{'s' if len(playbook.steps) != 1 else ''}"
            items.append(Text(Strong(name), f" ({steps}): {playbook.description}"))
        lines = []
        for problem in self._playbooks.problems:
            lines.append(f"⚠️ not loaded: {problem.location}: {problem.message}")
        drills = await self._store.recent("drill", 10)
        ended = ("done", "failed", "not_confirmed", "interrupted")
        finished = [r for r in drills if r.state in ended]
        for run in finished[:3]:
            took = f" in {run.seconds:.0f} s" if run.seconds is not None else ""
            headline = run.result.splitlines()[0] if run.result else ""
            lines.append(f"Drill R{run.id} on {run.service}: {run.state}{took} — {headline}")
        return ItemList(Text(Strong("Playbooks")), tuple(items), tuple(Text(n) for n in lines))

    async def _deploys(self, name: str) -> Reply:
        service = self._service(name)
        api = self._render()
        try:
            deploys = await api.deploys(service.render_service_id, limit=10)
        except RenderError as exc:
            raise UserError(str(exc)) from None
        if not deploys:
            return Noted(f"{name} has no deploys on Render.")
        now = self._clock()
        items = []
        for d in deploys:
            age = f"{_ago(now, d.created_at)} ago" if d.created_at else "?"
            commit = (d.commit_id or "")[:7] or "no commit"
            said = f" {d.status.value} · {commit} {d.commit_message[:60]} · {age}"
            items.append(Text(Code(d.id), said))
        return ItemList(Text(Strong(f"Deploys of {name}"), " (newest first)"), tuple(items))

    # --- planning -------------------------------------------------------------------

    async def _plan(self, command: cmd.RunPlaybook, inv: Invocation) -> Reply:
        playbook = self._playbooks.playbooks.get(command.playbook)
        if playbook is None:
            known = ", ".join(sorted(self._playbooks.playbooks)) or "none are loaded"
            raise UserError(f"There is no playbook `{command.playbook}` ({known}).")
        name = command.service or playbook.service
        if name is None:
            raise UserError(f"Run {playbook.name} on which service? `{cmd.USAGE['playbook']}`")
        service = self._service(name)
        if not command.dry_run and inv.actor not in await self._responders():
            raise UserError(
                "Only responders (the launch-gate owners and `playbooks.responders` in "
                "lucia.yaml) may run a playbook; anyone may add `--dry-run`."
            )
        if command.dry_run and self._api is None:  # what it would do, from the files alone
            return Noted(
                describe_offline(
                    playbook,
                    name,
                    service,
                    command.ref,
                    approval=self._needs_approval(playbook, service),
                    own_service=service.render_service_id == self._own_service_id,
                )
            )
        plan = await self._make_plan(playbook, name, service, command.ref)
        incident = await self._incidents.find_by_channel(inv.channel_id) if inv.channel_id else None
        state = RunState.DRY_RUN if command.dry_run else RunState.PLANNED

        async def create() -> StoredRun | None:
            return await self._store.create_run(
                playbook=playbook.name,
                service=name,
                state=state.value,
                plan=plan_json(plan),
                requested_by=inv.actor,
                incident_number=incident.number if incident else None,
                channel_id=inv.channel_id,
                at=self._clock(),
            )

        run = await create()
        busy = await self._store.active_run(name) if run is None else None
        if busy is not None and self._leases.ran_out(busy) and await self._runs.interrupt(busy):
            run = await create()  # its bot stopped: the service is free now
            busy = await self._store.active_run(name) if run is None else None
        if run is None:
            who = (
                Text(Mention(busy.requested_by), f" has R{busy.id} ({busy.playbook}, {busy.state})")
                if busy
                else Text("another run is active")
            )
            raise UserError(Text(f"{name} is busy: ", who, ". One run per service at a time."))
        text = describe_plan(run.id, plan, self._needs_approval(playbook, service))
        if command.dry_run:
            return PlaybookPlan(run.id, Text("Dry run — nothing will change.\n", text))
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
            target = rollback_target(deploys, live, ref)
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
            dashboard_url=current.dashboard_url,
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
                raise UserError(f"{await self._status(run_id)} It can't be cancelled now.")
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
                    Text(
                        "Only ",
                        Mention(run.requested_by),
                        f", who asked for R{run_id}, confirms it.",
                    )
                )
            if run.state != "planned":  # a second click: what is true now, from the store
                return Noted(await self._status(run_id))
            await self._still_current(run)
            needs = self._needs_approval(playbook, self._service(run.service))
            to = "awaiting_approval" if needs else "running"
            moved = await self._store.move(run_id, ("planned",), to, now)
            if moved is None:  # a second click: what is true now, from the stored run
                return Noted(await self._status(run_id))
            if needs:  # asked in the channel, where a second responder sees it
                await self._channel.ask(
                    run.channel_id,
                    PlaybookPlan(
                        run_id,
                        Text(
                            Mention(run.requested_by),
                            f" confirmed R{run_id} ({run.playbook} on {run.service}); "
                            "a second responder approves it.",
                        ),
                        ("approve", "cancel"),
                    ),
                )
                return Noted(f"R{run_id} waits for a second responder's approval in the channel.")
            self._runs.start(moved)
            return Noted(f"Running R{run_id} ({run.playbook} on {run.service}).")
        if inv.actor == run.requested_by:
            raise UserError("You asked for this run: a second person approves it.")
        if run.state != "awaiting_approval":
            return Noted(f"Nothing to approve: {await self._status(run_id)}")
        if not run.started:
            await self._still_current(run)
        moved = await self._store.move(run_id, ("awaiting_approval",), "running", now, by=inv.actor)
        if moved is None:
            return Noted(f"Nothing to approve: {await self._status(run_id)}")
        if run.started:  # an approval step: the run (in whichever process) carries on
            return Noted(f"Approved: R{run_id} carries on.")
        self._runs.start(moved)
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

    async def sweep(self) -> None:
        """Mark interrupted the runs whose bot stopped (see `RunExecutor.sweep`)."""
        await self._runs.sweep()

    # --- helpers --------------------------------------------------------------------

    async def _status(self, run_id: int) -> str:
        """What is true of the run now, from its stored state and steps."""
        run = await self._store.run(run_id)
        if run is None:
            return f"There is no run R{run_id}."
        steps = await self._store.steps(run_id)
        who = await self._name(run.requested_by)  # only the requester confirms
        return describe_status(self._runs.view(run), run.state, run.started, run.result, steps, who)

    async def _name(self, user: str) -> str:
        if self._name_of is not None:
            return await self._name_of(user)
        names = {o.slack: o.name for o in self._config.owners.values() if o and o.slack}
        return names.get(user, user)

    def _service(self, name: str) -> Service:
        service = self._config.services.get(name)
        if service is None:
            known = ", ".join(sorted(self._config.services)) or "none in lucia.yaml"
            raise UserError(f"There is no service `{name}` ({known}).")
        return service

    def _render(self) -> RenderAPI:
        return configured(self._api)


def _ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then.astimezone(UTC)).total_seconds())
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"
