"""Silences: alerts of a group or a project are counted and kept, but not posted.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.postgres import lock_down_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "silences",
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
        sa.CheckConstraint("(group_id IS NULL) <> (project IS NULL)", name="ck_silences_target"),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])
    lock_down_table("silences")


def downgrade() -> None:
    op.drop_table("silences")
