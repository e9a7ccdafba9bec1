"""The launch gate: every piece of evidence a check saw, every evaluation, sign-offs and
exceptions (each with who, when and expiry), and follow-ups that block a phase.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bot.store.migrations.postgres import lock_down_table

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
Id = sa.BigInteger().with_variant(sa.Integer, "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "gate_evidence",
        sa.Column("id", Id, primary_key=True),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("seen", Json, nullable=False),
        sa.Column("observed_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp),
    )
    op.create_index("ix_gate_evidence_item", "gate_evidence", ["item", "subject", "observed_at"])
    op.create_table(
        "gate_evaluations",
        sa.Column("id", Id, primary_key=True),
        sa.Column("phase", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("evaluated_at", Timestamp, nullable=False),
        sa.Column("evaluated_by", sa.String(64), nullable=False),
        sa.Column("result", Json, nullable=False),
    )
    op.create_index("ix_gate_evaluations_phase", "gate_evaluations", ["phase", "evaluated_at"])
    op.create_table(
        "gate_signoffs",
        sa.Column("id", Id, primary_key=True),
        sa.Column("phase", sa.String(64), nullable=False),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed_by", sa.String(64), nullable=False),
        sa.Column("signed_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("withdrawn_by", sa.String(64)),
        sa.Column("withdrawn_at", Timestamp),
    )
    op.create_index("ix_gate_signoffs_item", "gate_signoffs", ["phase", "item", "signed_at"])
    op.create_table(
        "gate_exceptions",
        sa.Column("id", Id, primary_key=True),
        sa.Column("phase", sa.String(64), nullable=False),
        sa.Column("items", Json, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("withdrawn_by", sa.String(64)),
        sa.Column("withdrawn_at", Timestamp),
    )
    op.create_index("ix_gate_exceptions_phase", "gate_exceptions", ["phase", "recorded_at"])
    for table in ("gate_evidence", "gate_evaluations", "gate_signoffs", "gate_exceptions"):
        lock_down_table(table)
    op.add_column(
        "followups",
        sa.Column("blocking", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("followups") as batch:
        batch.drop_column("blocking")
    for table in ("gate_exceptions", "gate_signoffs", "gate_evaluations", "gate_evidence"):
        op.drop_table(table)
