"""Playbook runs and their steps; one active run per service.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bot.store.migrations.postgres import lock_down_table

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
Json = sa.JSON().with_variant(JSONB, "postgresql")
ACTIVE = sa.text("state IN ('planned', 'awaiting_approval', 'running')")


def upgrade() -> None:
    op.create_table(
        "playbook_runs",
        sa.Column("id", Id, primary_key=True),
        sa.Column("playbook", sa.String(40), nullable=False),
        sa.Column("service", sa.String(80), nullable=False),
        sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number")),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("plan", Json, nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("started_at", Timestamp),
        sa.Column("finished_at", Timestamp),
        sa.Column("result", sa.Text, nullable=False, server_default=""),
    )
    op.create_index(
        "uq_playbook_runs_active_service",
        "playbook_runs",
        ["service"],
        unique=True,
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )
    op.create_table(
        "playbook_steps",
        sa.Column("run_id", Id, sa.ForeignKey("playbook_runs.id"), primary_key=True),
        sa.Column("index", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("seconds", sa.Float),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    lock_down_table("playbook_runs")
    lock_down_table("playbook_steps")


def downgrade() -> None:
    op.drop_table("playbook_steps")
    op.drop_table("playbook_runs")
