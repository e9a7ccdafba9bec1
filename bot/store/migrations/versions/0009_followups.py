"""Follow-up actions kept with an incident.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.postgres import lock_down_table

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "followups",
        sa.Column("id", Id, primary_key=True),
        sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("owner", sa.String(64)),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("done_at", Timestamp),
        sa.Column("done_by", sa.String(64)),
    )
    op.create_index("ix_followups_incident", "followups", ["incident_number"])
    lock_down_table("followups")


def downgrade() -> None:
    op.drop_table("followups")
