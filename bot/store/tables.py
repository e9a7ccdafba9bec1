"""The schema, as SQLAlchemy Core tables. Migrations in `migrations/versions` create it.

Every table in one module on purpose (it runs past 400 lines): the schema reads as one,
and `tests/store/test_migrations.py` compares it with the migrations in one place."""

from __future__ import annotations

__all__ = [
    "alert_deliveries",
    "alert_groups",
    "alert_notices",
    "audit_log",
    "deployment",
    "escalations",
    "followups",
    "gate_evaluations",
    "gate_evidence",
    "gate_exceptions",
    "gate_signoffs",
    "incident_counter",
    "incidents",
    "metadata",
    "owners",
    "page_deliveries",
    "pages",
    "playbook_runs",
    "playbook_steps",
    "refs",
    "silences",
    "status_component_changes",
    "status_drafts",
    "status_incidents",
    "status_maintenances",
    "status_updates",
    "timeline_events",
]

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

Timestamp = sa.DateTime(timezone=True)

incident_counter = sa.Table(
    "incident_counter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("last_number", sa.Integer, nullable=False),
)

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("opened_by", sa.String(64), nullable=False),
    sa.Column("lead", sa.String(64)),
    sa.Column("channel_id", sa.String(32), unique=True),
    sa.Column("channel_name", sa.String(80)),
    sa.Column("card_ts", sa.String(32)),
    sa.Column("announcement_channel_id", sa.String(32)),
    sa.Column("announcement_ts", sa.String(32)),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("acknowledged_at", Timestamp),
    sa.Column("acknowledged_by", sa.String(64)),
    sa.Column("mitigated_at", Timestamp),
    sa.Column("resolved_at", Timestamp),
    sa.Column("alert_group_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), unique=True),
    sa.Index("ix_incidents_status", "status"),
)

timeline_events = sa.Table(
    "timeline_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number"), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("data", sa.JSON().with_variant(JSONB, "postgresql"), nullable=False),
    sa.Index("ix_timeline_events_incident_at", "incident_number", "at", "id"),
)

alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Column("processed_at", Timestamp),
    sa.Column("outcome", sa.String(16)),
    sa.Column("error", sa.Text),
)

alert_groups = sa.Table(
    "alert_groups",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("project", sa.String(200), nullable=False),
    sa.Column("environment", sa.String(200), nullable=False),
    sa.Column("rule", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("first_seen", Timestamp, nullable=False),
    sa.Column("last_seen", Timestamp, nullable=False),
    sa.Column("resolved_at", Timestamp),
    sa.Column(
        "notice_id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("alert_notices.id"),
    ),
    sa.Column("route_state", sa.String(16)),
    sa.Column("route_severity", sa.String(8)),
    sa.Column("route_page", sa.Text),
    sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number")),
    sa.Column("noted_at", Timestamp),
    sa.Column("noted_count", sa.Integer, nullable=False, server_default="0"),
)

alert_notices = sa.Table(
    "alert_notices",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("group_by", sa.String(400), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("channel_id", sa.String(32)),
    sa.Column("message_ts", sa.String(32)),
    sa.Column("sent_at", Timestamp),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("sent_version", sa.Integer, nullable=False),
    sa.Column("due_at", Timestamp),
    sa.Column("acknowledged_by", sa.String(64)),
    sa.Column("acknowledged_at", Timestamp),
)

silences = sa.Table(
    "silences",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column(
        "group_id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("alert_groups.id"),
    ),
    sa.Column("project", sa.String(200)),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("ends_at", Timestamp, nullable=False),
    sa.Column("lifted_at", Timestamp),
    sa.Column("lifted_by", sa.String(64)),
)

_Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
_Json = sa.JSON().with_variant(JSONB, "postgresql")

owners = sa.Table(
    "owners",
    metadata,
    sa.Column("role", sa.String(16), primary_key=True),
    sa.Column("name", sa.Text),  # NULL: nobody holds the role
    sa.Column("slack_user", sa.String(32)),
    sa.Column("email", sa.Text),
    sa.Column("phone", sa.String(40)),
    sa.Column("push_topic", sa.Text),
    sa.Column("notes", sa.Text, nullable=False, server_default=""),
    # What lucia.yaml said when this row was last loaded from it: a change in the file
    # wins over a change made in Slack, an unchanged file doesn't undo one.
    sa.Column("config_hash", sa.String(64), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
)

refs = sa.Table(
    "refs",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.Text),
    sa.Column("config_hash", sa.String(64), nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("subject", sa.String(80), nullable=False),
    sa.Column("detail", _Json, nullable=False),
)

escalations = sa.Table(
    "escalations",
    metadata,
    sa.Column(
        "incident_number",
        sa.Integer,
        sa.ForeignKey("incidents.number"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("chain", _Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("due_at", Timestamp),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("stopped_at", Timestamp),
    sa.Index("ix_escalations_status_due", "status", "due_at"),
)

pages = sa.Table(
    "pages",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number")),
    sa.Column("target", sa.String(64), nullable=False),
    sa.Column("person", sa.String(200), nullable=False),  # who, for the throttle
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("slack_user", sa.String(32)),
    sa.Column("email", sa.Text),
    sa.Column("phone", sa.String(40)),
    sa.Column("push_topic", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("urgent", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("due_at", Timestamp, nullable=False),  # the claim timer (and a sender's lease)
    sa.Column("planned_at", Timestamp, nullable=False),  # when it was meant to go out
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("finished_at", Timestamp),
    sa.Column("acknowledged_at", Timestamp),
    sa.Column("acknowledged_by", sa.String(64)),
    # A test page (`bot/paging/test_pages.py`): no incident, outside the throttle (0014).
    sa.Column("test", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_pages_status_due", "status", "due_at"),
    sa.Index("ix_pages_person_planned", "person", "planned_at"),
)

page_deliveries = sa.Table(
    "page_deliveries",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("page_id", _Id, sa.ForeignKey("pages.id"), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.UniqueConstraint("page_id", "channel", name="uq_page_deliveries_channel"),
)

playbook_runs = sa.Table(
    "playbook_runs",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("playbook", sa.String(40), nullable=False),
    sa.Column("service", sa.String(80), nullable=False),
    sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number")),
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("plan", _Json, nullable=False),  # the ids it acts on, fixed when shown
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("channel_id", sa.String(32)),  # where it was asked for: its messages go there
    sa.Column("approved_by", sa.String(64)),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("started_at", Timestamp),
    sa.Column("finished_at", Timestamp),
    sa.Column("result", sa.Text, nullable=False, server_default=""),
    # Renewed by the bot executing the run; one that stops renewing it (killed) leaves a
    # run that a sweep marks interrupted, freeing the service (migration 0011).
    sa.Column("heartbeat_at", Timestamp),
    # One run per service at a time, across processes: a second planned/running run of
    # the same service can't be inserted.
    sa.Index(
        "uq_playbook_runs_active_service",
        "service",
        unique=True,
        postgresql_where=sa.text("state IN ('planned', 'awaiting_approval', 'running')"),
        sqlite_where=sa.text("state IN ('planned', 'awaiting_approval', 'running')"),
    ),
)

playbook_steps = sa.Table(
    "playbook_steps",
    metadata,
    sa.Column("run_id", _Id, sa.ForeignKey("playbook_runs.id"), primary_key=True),
    sa.Column("index", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
    sa.Column("seconds", sa.Float),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("deploy_id", sa.String(64)),  # the deploy the run watched after this step
)

followups = sa.Table(
    "followups",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("owner", sa.String(64)),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("done_at", Timestamp),
    sa.Column("done_by", sa.String(64)),
    sa.Column("blocking", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_followups_incident", "incident_number"),
)


# One row: the namespace of this database's keys in Redis (see migration 0010).
deployment = sa.Table(
    "deployment",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True),
    sa.Column("namespace", sa.String(32), nullable=False),
    sa.Column("last_fold", sa.String(32)),  # the last fold of Redis counts applied (0012)
    sa.CheckConstraint("id = 1", name="ck_deployment_one_row"),
)


# The launch gate (migration 0013): what each check saw, each evaluation's whole result,
# and the sign-offs and exceptions people recorded.
gate_evidence = sa.Table(
    "gate_evidence",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("item", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(128), nullable=False),
    sa.Column("verdict", sa.String(8), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("seen", _Json, nullable=False),
    sa.Column("observed_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp),
    sa.Index("ix_gate_evidence_item", "item", "subject", "observed_at"),
)

gate_evaluations = sa.Table(
    "gate_evaluations",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("phase", sa.String(64), nullable=False),
    sa.Column("verdict", sa.String(8), nullable=False),
    sa.Column("evaluated_at", Timestamp, nullable=False),
    sa.Column("evaluated_by", sa.String(64), nullable=False),
    sa.Column("result", _Json, nullable=False),
    sa.Index("ix_gate_evaluations_phase", "phase", "evaluated_at"),
)

gate_signoffs = sa.Table(
    "gate_signoffs",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("phase", sa.String(64), nullable=False),
    sa.Column("item", sa.String(64), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("signed_by", sa.String(64), nullable=False),
    sa.Column("signed_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Column("withdrawn_by", sa.String(64)),
    sa.Column("withdrawn_at", Timestamp),
    sa.Index("ix_gate_signoffs_item", "phase", "item", "signed_at"),
)

gate_exceptions = sa.Table(
    "gate_exceptions",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("phase", sa.String(64), nullable=False),
    sa.Column("items", _Json, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Column("withdrawn_by", sa.String(64)),
    sa.Column("withdrawn_at", Timestamp),
    sa.Index("ix_gate_exceptions_phase", "phase", "recorded_at"),
)

# The public status page (migration 0015): only what a person published.
status_incidents = sa.Table(
    "status_incidents",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("impact", sa.String(16), nullable=False),
    sa.Column("components", _Json, nullable=False),
    sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number")),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("resolved_at", Timestamp),
    sa.Index("ix_status_incidents_created", "created_at"),
)

status_updates = sa.Table(
    "status_updates",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("status_incident_id", _Id, sa.ForeignKey("status_incidents.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("components", _Json, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("ix_status_updates_incident", "status_incident_id"),
)

status_component_changes = sa.Table(
    "status_component_changes",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("component", sa.String(40), nullable=False),
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Index("ix_status_component_changes", "component", "at"),
)

status_maintenances = sa.Table(
    "status_maintenances",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("components", _Json, nullable=False),
    sa.Column("starts_at", Timestamp, nullable=False),
    sa.Column("ends_at", Timestamp, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("cancelled_at", Timestamp),
)

status_drafts = sa.Table(
    "status_drafts",
    metadata,
    sa.Column("id", _Id, primary_key=True),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("payload", _Json, nullable=False),
    sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number")),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("outcome", sa.String(16)),
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decided_at", Timestamp),
)
