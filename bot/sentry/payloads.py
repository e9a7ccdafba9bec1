"""Sentry's webhook payloads as pydantic models, and what each one means as an alert.

Key per alert group (what Sentry's own PagerDuty/Opsgenie integrations use): the Sentry
issue id for `event_alert`, `error`, `issue` and the legacy plugin; the alert rule id and
incident identifier for `metric_alert`.

A signed body with a top-level `lucia_trace` is the launch gate's synthetic trace
(`bot/sentry/synthetic.py` sends it): its signal is the trace's own (`trace_signal`), never
a real alert's, so it pages nobody. The legacy plugin signs nothing and can't carry one.
"""

from __future__ import annotations

__all__ = ["read_delivery", "repeat_key"]

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from bot.alerts.model import AlertSignal, Delivery, trace_signal
from bot.alerts.ports import Read
from bot.errors import UnreadableDelivery

Id = Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Event(_Payload):
    """`data.event` of event_alert, `data.error` of error (the same shape)."""

    issue_id: Id
    title: str = ""
    level: str = "error"
    culprit: str | None = None
    web_url: str = ""
    url: str = ""
    environment: str | None = None
    tags: list[tuple[str, str]] | None = None
    occurred: datetime | None = Field(default=None, alias="datetime")
    timestamp: float | None = None


class _EventAlertData(_Payload):
    event: _Event
    triggered_rule: str = ""


class _ErrorData(_Payload):
    error: _Event


class _IssueProject(_Payload):
    slug: str = ""


class _Issue(_Payload):
    id: Id
    shortId: str = ""
    title: str = ""
    level: str = "error"
    project: _IssueProject = _IssueProject()
    web_url: str | None = None
    permalink: str | None = None
    lastSeen: datetime | None = None


class _IssueData(_Payload):
    issue: _Issue


class _AlertRule(_Payload):
    id: Id
    name: str = ""
    environment: str | None = None


class _MetricAlert(_Payload):
    identifier: Id
    alert_rule: _AlertRule
    projects: list[str] = []
    title: str = ""


class _MetricAlertData(_Payload):
    metric_alert: _MetricAlert
    description_title: str = ""
    web_url: str = ""


TRACE_FIELD = "lucia_trace"
TraceId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z-]{1,64}$")]


class _Envelope(_Payload):
    action: str
    data: dict[str, Any]
    # A trace id that isn't one makes the delivery unreadable: it must never be read as a
    # real alert that pages.
    lucia_trace: TraceId | None = None


class _Legacy(_Payload):
    id: Id
    project_slug: str = ""
    project: str = ""
    level: str = "error"
    message: str = ""
    culprit: str | None = None
    url: str = ""
    triggering_rules: list[str] = []
    event: dict[str, Any] = {}


# issue actions that end an alert group, and those that (re)start one
_ISSUE_ENDS = {"resolved", "ignored", "archived"}
_ISSUE_STARTS = {"created", "unresolved"}
_PROJECT_IN_URL = re.compile(r"/projects/[^/]+/([^/]+)/")


def repeat_key(kind: str, payload: Mapping[str, Any]) -> str | None:
    """The group key of a delivery that can only say "still firing", read cheaply.

    Such a delivery may skip the inbox when its group is already firing. Everything that
    can change a group beyond its count (a resolve, a metric alert's level) returns None.
    """
    # Any shape may arrive signed: whatever isn't the promised one goes to the inbox,
    # where the reader keeps it and marks it unreadable.
    if TRACE_FIELD in payload:  # a trace is never a repeat of a real alert
        return None
    if kind == "legacy_plugin":
        issue = payload.get("id")
    elif (inner := _REPEATABLE.get((kind, str(payload.get("action"))))) is not None:
        issue = _field(_field(_field(payload, "data"), inner), "issue_id")
    else:
        return None
    if isinstance(issue, bool) or not isinstance(issue, str | int) or issue == "":
        return None
    return f"sentry:issue:{issue}"


_REPEATABLE = {("event_alert", "triggered"): "event", ("error", "created"): "error"}


def _field(value: object, name: str) -> object:
    return value.get(name) if isinstance(value, Mapping) else None


def read_delivery(delivery: Delivery) -> Read:
    try:
        # Postgres text can't hold NUL, and no alert needs one.
        payload = orjson.loads(delivery.body.replace(b"\\u0000", b""))
        if delivery.source == "sentry-legacy":
            return Read(_legacy(_Legacy.model_validate(payload), delivery))
        envelope = _Envelope.model_validate(payload)
        read = _read(delivery.kind, envelope, delivery)
        if envelope.lucia_trace is not None and (signal := read.signal) is not None:
            trace = trace_signal(envelope.lucia_trace, signal.occurred_at, firing=signal.firing)
            return Read(trace)
        return read
    except (ValueError, ValidationError) as exc:
        raise UnreadableDelivery(f"{delivery.kind}: {_first_error(exc)}") from exc


def _read(kind: str, envelope: _Envelope, delivery: Delivery) -> Read:
    action = envelope.action
    match kind:
        case "event_alert" if action == "triggered":
            data = _EventAlertData.model_validate(envelope.data)
            return Read(_from_event(data.event, data.triggered_rule, kind, action, delivery))
        case "error" if action == "created":
            error = _ErrorData.model_validate(envelope.data).error
            return Read(_from_event(error, "", kind, action, delivery))
        case "issue" if action in _ISSUE_ENDS | _ISSUE_STARTS:
            issue = _IssueData.model_validate(envelope.data).issue
            return Read(_from_issue(issue, action in _ISSUE_STARTS, action, delivery))
        case "metric_alert" if action in ("critical", "warning", "resolved", "open"):
            metric = _MetricAlertData.model_validate(envelope.data)
            return Read(_from_metric(metric, action, delivery))
    return Read(None, f"{kind}.{action}: nothing to alert on")


def _from_event(
    event: _Event, rule: str, kind: str, action: str, delivery: Delivery
) -> AlertSignal:
    tags = dict(event.tags or [])
    project = _PROJECT_IN_URL.search(event.url)
    occurred = event.occurred or _from_timestamp(event.timestamp) or delivery.received_at
    return AlertSignal(
        key=f"sentry:issue:{event.issue_id}",
        firing=True,
        title=event.title or event.culprit or f"Sentry issue {event.issue_id}",
        level=event.level,
        project=project.group(1) if project else tags.get("project", ""),
        environment=event.environment or tags.get("environment", ""),
        rule=rule,
        url=event.web_url,
        source="sentry",
        resource=kind,
        action=action,
        occurred_at=_aware(occurred),
        tags=tags,
    )


def _from_issue(issue: _Issue, firing: bool, action: str, delivery: Delivery) -> AlertSignal:
    return AlertSignal(
        key=f"sentry:issue:{issue.id}",
        firing=firing,
        title=issue.title or issue.shortId,
        level=issue.level,
        project=issue.project.slug,
        environment="",  # issue payloads carry no environment
        rule="",
        url=issue.web_url or issue.permalink or "",
        source="sentry",
        resource="issue",
        action=action,
        occurred_at=_aware((firing and issue.lastSeen) or delivery.received_at),
    )


def _from_metric(data: _MetricAlertData, action: str, delivery: Delivery) -> AlertSignal:
    alert = data.metric_alert
    return AlertSignal(
        key=f"sentry:metric:{alert.alert_rule.id}:{alert.identifier}",
        firing=action != "resolved",
        title=data.description_title or alert.title or alert.alert_rule.name,
        level="critical" if action == "critical" else "warning" if action == "warning" else "info",
        project=", ".join(alert.projects),
        environment=alert.alert_rule.environment or "",
        rule=alert.alert_rule.name,
        url=data.web_url,
        source="sentry",
        resource="metric_alert",
        action=action,
        occurred_at=delivery.received_at,
    )


def _legacy(payload: _Legacy, delivery: Delivery) -> AlertSignal:
    event = payload.event
    pairs = [p for p in event.get("tags") or [] if isinstance(p, list | tuple) and len(p) == 2]
    tags: Mapping[str, str] = {str(k): str(v) for k, v in pairs}
    return AlertSignal(
        key=f"sentry:issue:{payload.id}",
        firing=True,
        title=payload.message or str(event.get("title") or "") or payload.culprit or payload.id,
        level=payload.level,
        project=payload.project_slug or payload.project,
        environment=str(event.get("environment") or tags.get("environment", "")),
        rule=", ".join(payload.triggering_rules),
        url=payload.url,
        source="sentry",
        resource="legacy",
        action="triggered",
        occurred_at=delivery.received_at,
        tags=dict(tags),
    )


def _from_timestamp(value: float | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(value, UTC) if value else None
    except (OverflowError, OSError, ValueError):
        return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return str(exc)
