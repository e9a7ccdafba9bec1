"""A run's plan: how its target is chosen, how it is shown before Confirm, and how it is
stored (`playbook_runs.plan`, JSON) and read back. Without Render, a dry run is told what
the playbook would do from its file and lucia.yaml alone (`describe_offline`).

The stored plan is what a run's messages are worded from: the ids it acts on, the service's
page in Render's dashboard, and the kinds of its steps (so a playbook file edited or
removed since the run started doesn't change what is said about the run).
"""

from __future__ import annotations

__all__ = [
    "RENDER_KEY_HELP",
    "RunView",
    "describe_offline",
    "describe_plan",
    "plan_from_json",
    "plan_json",
    "rollback_target",
    "run_view",
]

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.config import Service
from bot.durations import short_duration
from bot.errors import UserError
from bot.playbooks.model import (
    ApprovalStep,
    DeployStep,
    HealthCheckStep,
    MessageStep,
    PauseStep,
    Playbook,
    RenderActionStep,
    RollbackStep,
    Step,
    WaitLiveStep,
)
from bot.playbooks.ports import DeployStatus, RenderDeploy, StoredRun
from bot.playbooks.runner import Plan
from bot.text import Strong, Text

DASHBOARD = "https://dashboard.render.com/web/"  # + the service id, when Render gave none
RENDER_KEY_HELP = (
    "set RENDER_API_KEY in the bot's environment (create a key in the Render dashboard → "
    "Account Settings → API Keys) and restart the bot"
)
UNKNOWN = "unknown without Render"


@dataclass(frozen=True)
class RunView:
    """What a stored run is about, for wording its messages."""

    run_id: int
    playbook: str
    service: str  # the name in lucia.yaml
    service_id: str
    kinds: tuple[str, ...]  # its steps, in order
    dashboard_url: str  # the service's page in Render's dashboard
    live_deploy: RenderDeploy | None  # live when it was planned
    target_deploy: RenderDeploy | None  # rollback: the deploy to go back to
    commit: str | None  # deploy: the commit to ship

    @property
    def head(self) -> str:
        return f"R{self.run_id} {self.playbook} on {self.service}"


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "service": plan.service,
        "service_id": plan.service_id,
        "health_url": plan.health_url,
        "live_deploy": _deploy_json(plan.live_deploy),
        "target_deploy": _deploy_json(plan.target_deploy),
        "commit": plan.commit,
        "dashboard_url": plan.dashboard_url,
        "steps": [step.kind for step in plan.steps],
    }


def plan_from_json(data: dict[str, Any], playbook: Playbook) -> Plan:
    return Plan(
        playbook=playbook.name,
        service=data["service"],
        service_id=data["service_id"],
        health_url=data["health_url"],
        live_deploy=_deploy(data["live_deploy"]),
        target_deploy=_deploy(data["target_deploy"]),
        commit=data["commit"],
        steps=tuple(playbook.steps),
        dashboard_url=data.get("dashboard_url"),
    )


def run_view(run: StoredRun, fallback_kinds: tuple[str, ...] = ()) -> RunView:
    """`fallback_kinds`: the playbook's steps now, for runs stored before plans kept theirs."""
    data = run.plan
    service_id = str(data["service_id"])
    kinds = tuple(str(k) for k in data.get("steps") or fallback_kinds)
    return RunView(
        run_id=run.id,
        playbook=run.playbook,
        service=run.service,
        service_id=service_id,
        kinds=kinds,
        dashboard_url=str(data.get("dashboard_url") or DASHBOARD + service_id),
        live_deploy=_deploy(data.get("live_deploy")),
        target_deploy=_deploy(data.get("target_deploy")),
        commit=data.get("commit"),
    )


def _deploy_json(deploy: RenderDeploy | None) -> dict[str, Any] | None:
    if deploy is None:
        return None
    data = asdict(deploy)
    data["status"] = deploy.status.value
    for key in ("created_at", "finished_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _deploy(data: dict[str, Any] | None) -> RenderDeploy | None:
    if data is None:
        return None
    times = {
        k: datetime.fromisoformat(data[k]) if data.get(k) else None
        for k in ("created_at", "finished_at")
    }
    return RenderDeploy(
        id=data["id"],
        status=DeployStatus.parse(data["status"]),
        trigger=data.get("trigger", ""),
        commit_id=data.get("commit_id"),
        commit_message=data.get("commit_message", ""),
        **times,
    )


def rollback_target(
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


def describe_plan(run_id: int, plan: Plan, approval: bool) -> Text:
    head = Text(Strong(f"R{run_id}: {plan.playbook} on {plan.service}"), " ")
    lines = [f"(`{plan.service_id}`)"]
    lines.append(f"Live now: {_deploy_line(plan.live_deploy)}")
    if plan.target_deploy is not None:
        lines.append(f"Roll back to: {_deploy_line(plan.target_deploy)}")
    if plan.commit:
        lines.append(f"Deploy commit: `{plan.commit[:12]}`")
    lines.append("Steps: " + " → ".join(s.kind for s in plan.steps))
    if approval:
        lines.append("A second responder approves it after you confirm.")
    return Text(head, "\n".join(lines))


def _deploy_line(deploy: RenderDeploy | None) -> str:
    if deploy is None:
        return "nothing"
    commit = (deploy.commit_id or "")[:7]
    return f"`{deploy.id}` ({commit} {deploy.commit_message[:60]})".replace(" )", ")")


def describe_offline(
    playbook: Playbook,
    name: str,
    service: Service,
    ref: str | None,
    *,
    approval: bool,
    own_service: bool,
) -> str:
    """A dry run on a bot without Render: what the plan would do, from the playbook file
    and lucia.yaml's `services:` entry, and what it needs to run for real. Nothing in it
    claims what only Render knows."""
    kinds = {s.kind for s in playbook.steps}
    sid = service.render_service_id
    lines = [
        "Dry run — nothing will change, and nothing was read from Render: this bot has no "
        "RENDER_API_KEY.",
        f"{playbook.name} on {name} would act on Render service {sid} "
        f"(services.{name} in lucia.yaml).",
        f"Live now: {UNKNOWN}.",
    ]
    if "rollback" in kinds:
        lines.append(f"Roll back to: {_rollback_target(ref)}.")
    deploy = next((s for s in playbook.steps if isinstance(s, DeployStep)), None)
    if deploy is not None:
        lines.append(f"Deploy: {_deploy_commit(playbook, deploy, ref)}.")
    lines.append("Steps:")
    lines += [
        f"{i}. {step.kind}: {_offline_step(step, name, service, playbook, ref)}"
        for i, step in enumerate(playbook.steps, 1)
    ]
    if approval:
        why = (
            f"{name} is a production service in lucia.yaml"
            if service.production
            else f"the {playbook.name} playbook asks for it on every run"
        )
        lines.append(
            f"Approval: a second responder approves it after the requester confirms ({why})."
        )
    else:
        lines.append(
            f"Approval: the requester's Confirm is enough ({name} isn't a production "
            "service in lucia.yaml)."
        )
    check = "" if "resume" in kinds else ", refuse it if it is suspended"
    lines.append(
        f"With Render, the plan would first read {name} and its last 50 deploys{check}, and "
        "name the deploys it acts on, with their commits, before anything changes."
    )
    if own_service:
        lines.append(
            f"{sid} is this bot's own service (RENDER_SERVICE_ID): a real run is refused; "
            "act on it from Render's dashboard."
        )
    lines.append(
        f"To run it for real: {RENDER_KEY_HELP}; then a responder (a launch-gate owner, an "
        "admin or one of playbooks.responders in lucia.yaml) runs it again without --dry-run."
    )
    return "\n".join(lines)


def _rollback_target(ref: str | None) -> str:
    if ref is not None:
        return (
            f"{ref}, as given (not checked without Render: a real plan refuses it unless it "
            "is one of the last 50 deploys and not the live one)"
        )
    return f"the previous live deploy ({UNKNOWN})"


def _deploy_commit(playbook: Playbook, step: DeployStep, ref: str | None) -> str:
    """What a deploy step ships, as the runner picks it: its own commit, else the plan's."""
    if step.commit:
        return f"commit {step.commit}"
    if any(s.kind == "rollback" for s in playbook.steps):  # a drill: forward to what was live
        return f"forward again to the commit that was live before the run ({UNKNOWN})"
    if ref:
        return f"commit {ref}"
    return "the head of the service's branch, as Render builds it"


def _offline_step(
    step: Step, name: str, service: Service, playbook: Playbook, ref: str | None
) -> str:
    match step:
        case RollbackStep():
            return f"roll {name} back to {_rollback_target(ref)}"
        case RenderActionStep(kind="autodeploy_off"):
            return "turn auto-deploy off, so the next push doesn't ship by itself"
        case RenderActionStep(kind="restart"):
            return f"restart {name}'s instances (same deploy)"
        case RenderActionStep(kind="suspend"):
            return f"suspend {name}: it stops serving"
        case RenderActionStep():
            return f"resume {name}, which makes a new deploy"
        case DeployStep():
            return f"deploy {_deploy_commit(playbook, step, ref)}"
        case WaitLiveStep(timeout=timeout):
            return f"wait up to {short_duration(timeout)} until Render reports the new deploy live"
        case HealthCheckStep():
            url = step.url or service.health_url
            if url is None:
                return (
                    f"no health URL, so the check would fail: set services.{name}.health_url "
                    "in lucia.yaml"
                )
            body = f" with “{step.expect_body}” in its body" if step.expect_body else ""
            tries = f"{step.retries} tr{'ies' if step.retries != 1 else 'y'}"
            return (
                f"GET {url} until it answers {step.expect_status}{body} "
                f"({tries}, {short_duration(step.interval)} apart)"
            )
        case MessageStep(text=text):
            return f"post in the channel: {text.replace('{service}', name)}"
        case PauseStep(wait=wait):
            return f"wait {short_duration(wait)}"
        case ApprovalStep(message=message, timeout=timeout):
            return (
                f"wait up to {short_duration(timeout)} for a second responder's approval: {message}"
            )
    raise AssertionError(f"unhandled step {step!r}")
