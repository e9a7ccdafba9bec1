"""What Render's JSON bodies say, read defensively: a field of the wrong type or missing
is "not known", never an exception."""

from __future__ import annotations

__all__ = ["deploy_from_body", "json_of", "message_of", "service_from_body"]

import json
from datetime import UTC, datetime
from typing import Any

from bot.playbooks.ports import DeployStatus, RenderDeploy, RenderService


def deploy_from_body(data: object) -> RenderDeploy | None:
    if not isinstance(data, dict):
        return None
    deploy_id = data.get("id")
    if not isinstance(deploy_id, str) or not deploy_id:
        return None
    commit = data.get("commit")
    commit = commit if isinstance(commit, dict) else {}
    commit_id = commit.get("id")
    return RenderDeploy(
        id=deploy_id,
        status=DeployStatus.parse(_str(data.get("status")) or None),
        trigger=_str(data.get("trigger")),
        commit_id=commit_id if isinstance(commit_id, str) and commit_id else None,
        commit_message=_str(commit.get("message")),
        created_at=_time(data.get("createdAt")),
        finished_at=_time(data.get("finishedAt")),
    )


def service_from_body(data: object) -> RenderService | None:
    if not isinstance(data, dict):
        return None
    service_id, name = data.get("id"), data.get("name")
    if not isinstance(service_id, str) or not service_id or not isinstance(name, str):
        return None
    dashboard = data.get("dashboardUrl")
    return RenderService(
        id=service_id,
        name=name,
        suspended=data.get("suspended") == "suspended",
        auto_deploy=_auto_deploy(data),
        dashboard_url=dashboard if isinstance(dashboard, str) and dashboard else None,
    )


def _auto_deploy(data: dict[str, Any]) -> bool:
    trigger = data.get("autoDeployTrigger")  # commit | checksPass | off; wins over the legacy
    if isinstance(trigger, str) and trigger:
        return trigger != "off"
    legacy = data.get("autoDeploy")  # yes | no
    if isinstance(legacy, str) and legacy in ("yes", "no"):
        return legacy == "yes"
    return True  # unknown: assume a push may deploy, so a playbook turns it off


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def message_of(body: object) -> str:
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str):
            return message.strip()
    return ""


def json_of(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
