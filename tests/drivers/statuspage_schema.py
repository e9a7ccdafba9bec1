"""Statuspage's public v2 JSON, as JSON Schema (draft 2020-12), written from Atlassian's
documentation of `/api/v2/*.json` and the pages it serves (summary, status, components,
incidents, unresolved incidents, scheduled maintenances).

Every object lists the fields Statuspage documents and no others (`additionalProperties:
false`), so a misspelt field fails; the fields clients rely on are required. Times are
ISO 8601 with an offset (or Z), ids are strings."""

from __future__ import annotations

__all__ = ["DOCUMENTS", "validate"]

from typing import Any

import jsonschema

Schema = dict[str, Any]

_TIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
}
_MAYBE_TIME = {"anyOf": [_TIME, {"type": "null"}]}
_ID = {"type": "string", "minLength": 1}
_COMPONENT_STATUS = {
    "enum": [
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    ]
}


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
    }


PAGE = _object(
    {
        "id": _ID,
        "name": {"type": "string"},
        "url": {"type": "string", "minLength": 1},
        "updated_at": _TIME,
    },
    {"time_zone": {"type": "string"}},
)

STATUS = _object(
    {
        "indicator": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
        "description": {"type": "string", "minLength": 1},
    }
)

COMPONENT = _object(
    {
        "id": _ID,
        "name": {"type": "string", "minLength": 1},
        "status": _COMPONENT_STATUS,
        "created_at": _TIME,
        "updated_at": _TIME,
        "position": {"type": "integer", "minimum": 1},
        "description": {"type": ["string", "null"]},
        "showcase": {"type": "boolean"},
        "group_id": {"type": ["string", "null"]},
        "page_id": _ID,
        "group": {"type": "boolean"},
        "only_show_if_degraded": {"type": "boolean"},
    },
    {
        "start_date": {
            "anyOf": [{"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}, {"type": "null"}]
        },
        "components": {"type": "array", "items": _ID},  # a group's members
    },
)
# A group lists its members; a member names no members.
COMPONENT = {
    **COMPONENT,
    "if": {"properties": {"group": {"const": True}}},
    "then": {"required": ["components"], "properties": {"group_id": {"type": "null"}}},
    "else": {"not": {"required": ["components"]}},
}

AFFECTED_COMPONENT = _object(
    {"code": _ID, "name": {"type": "string"}, "new_status": _COMPONENT_STATUS},
    {"old_status": _COMPONENT_STATUS},
)


def _update(statuses: list[str]) -> Schema:
    return _object(
        {
            "id": _ID,
            "status": {"enum": statuses},
            "body": {"type": "string"},
            "incident_id": _ID,
            "created_at": _TIME,
            "updated_at": _TIME,
            "display_at": _TIME,
        },
        {
            "affected_components": {
                "anyOf": [{"type": "array", "items": AFFECTED_COMPONENT}, {"type": "null"}]
            },
            "deliver_notifications": {"type": "boolean"},
            "custom_tweet": {"type": ["string", "null"]},
            "tweet_id": {"type": ["string", "null"]},
        },
    )


_INCIDENT_STATUSES = ["investigating", "identified", "monitoring", "resolved", "postmortem"]
_MAINTENANCE_STATUSES = ["scheduled", "in_progress", "verifying", "completed"]
_INCIDENT_FIELDS = {
    "id": _ID,
    "name": {"type": "string", "minLength": 1},
    "impact": {"enum": ["none", "minor", "major", "critical", "maintenance"]},
    "created_at": _TIME,
    "updated_at": _MAYBE_TIME,
    "monitoring_at": _MAYBE_TIME,
    "resolved_at": _MAYBE_TIME,
    "shortlink": {"type": "string", "minLength": 1},
    "page_id": _ID,
    "components": {"type": "array", "items": COMPONENT},
}

INCIDENT = _object(
    {
        **_INCIDENT_FIELDS,
        "status": {"enum": _INCIDENT_STATUSES},
        "incident_updates": {"type": "array", "items": _update(_INCIDENT_STATUSES)},
    },
    {"started_at": _TIME, "postmortem_body": {"type": ["string", "null"]}},
)

SCHEDULED_MAINTENANCE = _object(
    {
        **_INCIDENT_FIELDS,
        "status": {"enum": _MAINTENANCE_STATUSES},
        "scheduled_for": _TIME,
        "scheduled_until": _TIME,
        "incident_updates": {"type": "array", "items": _update(_MAINTENANCE_STATUSES)},
    },
    {"started_at": _TIME},
)


def _list(item: Schema) -> Schema:
    return {"type": "array", "items": item}


DOCUMENTS: dict[str, Schema] = {
    "summary.json": _object(
        {
            "page": PAGE,
            "status": STATUS,
            "components": _list(COMPONENT),
            "incidents": _list(INCIDENT),
            "scheduled_maintenances": _list(SCHEDULED_MAINTENANCE),
        }
    ),
    "status.json": _object({"page": PAGE, "status": STATUS}),
    "components.json": _object({"page": PAGE, "components": _list(COMPONENT)}),
    "incidents.json": _object({"page": PAGE, "incidents": _list(INCIDENT)}),
    "incidents/unresolved.json": _object({"page": PAGE, "incidents": _list(INCIDENT)}),
    "scheduled-maintenances.json": _object(
        {"page": PAGE, "scheduled_maintenances": _list(SCHEDULED_MAINTENANCE)}
    ),
}
# summary.json's and unresolved.json's incidents are the open ones only.
_OPEN = {
    "properties": {"status": {"enum": _INCIDENT_STATUSES[:3]}, "resolved_at": {"type": "null"}}
}
for _name in ("summary.json", "incidents/unresolved.json"):
    DOCUMENTS[_name]["properties"]["incidents"]["items"] = {"allOf": [INCIDENT, _OPEN]}


def validate(name: str, document: object) -> None:
    """Raises jsonschema's ValidationError, naming the path, if `document` isn't the shape
    Statuspage serves at `/api/v2/<name>`."""
    validator = jsonschema.Draft202012Validator(DOCUMENTS[name])
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        raise errors[0]
