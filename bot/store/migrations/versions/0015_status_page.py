"""The public status page: public incidents and their updates, every component state
published (uptime is computed from them), scheduled maintenance, and drafts shown before
anything is published.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bot.store.migrations.postgres import lock_down_table

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")
TABLES = (
    "status_incidents",
    "status_updates",
    "status_component_changes",
    "status_maintenances",
    "status_drafts",
)


def upgrade() -> None:
    op.create_table(
        "status_incidents",
        sa.Column("id", Id, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("impact", sa.String(16), nullable=False),
        sa.Column("components", Json, nullable=False),
        sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number")),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("resolved_at", Timestamp),
    )
    op.create_index("ix_status_incidents_created", "status_incidents", ["created_at"])
    op.create_table(
        "status_updates",
        sa.Column("id", Id, primary_key=True),
        sa.Column("status_incident_id", Id, sa.ForeignKey("status_incidents.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("components", Json, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("ix_status_updates_incident", "status_updates", ["status_incident_id"])
    op.create_table(
        "status_component_changes",
        sa.Column("id", Id, primary_key=True),
        sa.Column("component", sa.String(40), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_status_component_changes", "status_component_changes", ["component", "at"])
    op.create_table(
        "status_maintenances",
        sa.Column("id", Id, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("components", Json, nullable=False),
        sa.Column("starts_at", Timestamp, nullable=False),
        sa.Column("ends_at", Timestamp, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("cancelled_at", Timestamp),
    )
    op.create_table(
        "status_drafts",
        sa.Column("id", Id, primary_key=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("payload", Json, nullable=False),
        sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number")),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("outcome", sa.String(16)),  # published, cancelled; NULL while shown
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", Timestamp),
    )
    for table in TABLES:
        lock_down_table(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
