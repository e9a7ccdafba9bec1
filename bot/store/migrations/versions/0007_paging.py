"""Paging: the launch-gate table and references, the audit log, escalations and pages.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bot.store.migrations.postgres import lock_down_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
Json = sa.JSON().with_variant(JSONB, "postgresql")

TABLES = ("owners", "refs", "audit_log", "escalations", "pages", "page_deliveries")


def upgrade() -> None:
    op.create_table(
        "owners",
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("slack_user", sa.String(32)),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.String(40)),
        sa.Column("push_topic", sa.Text),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "refs",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text),
        sa.Column("config_hash", sa.String(64), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", Id, primary_key=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("detail", Json, nullable=False),
    )
    op.create_table(
        "escalations",
        sa.Column(
            "incident_number",
            sa.Integer,
            sa.ForeignKey("incidents.number"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("chain", Json, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("due_at", Timestamp),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("stopped_at", Timestamp),
    )
    op.create_index("ix_escalations_status_due", "escalations", ["status", "due_at"])
    op.create_table(
        "pages",
        sa.Column("id", Id, primary_key=True),
        sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number")),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("slack_user", sa.String(32)),
        sa.Column("email", sa.Text),
        sa.Column("phone", sa.String(40)),
        sa.Column("push_topic", sa.Text),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", Timestamp, nullable=False),
        sa.Column("planned_at", Timestamp, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("finished_at", Timestamp),
        sa.Column("acknowledged_at", Timestamp),
        sa.Column("acknowledged_by", sa.String(64)),
    )
    op.create_index("ix_pages_status_due", "pages", ["status", "due_at"])
    op.create_index("ix_pages_person_planned", "pages", ["person", "planned_at"])
    op.create_table(
        "page_deliveries",
        sa.Column("id", Id, primary_key=True),
        sa.Column("page_id", Id, sa.ForeignKey("pages.id"), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.UniqueConstraint("page_id", "channel", name="uq_page_deliveries_channel"),
    )
    # Incidents from before paging existed are not paged now (a stopped, empty chain); one
    # that is reopened later is, with the chain of its severity then.
    op.execute(
        "INSERT INTO escalations (incident_number, chain, status, round, step, started_at, "
        "stopped_at) SELECT number, '{\"steps\": [], \"repeat\": 0}', 'stopped', 0, 0, "
        "created_at, CURRENT_TIMESTAMP FROM incidents"
    )
    for table in TABLES:
        lock_down_table(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
