"""Test pages: `pages.test` marks a page sent to check that a launch-gate owner can be
reached (no incident, no escalation). Its acknowledgement is the gate's evidence, and it
never counts for, or waits on, the escalation throttle.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.add_column(sa.Column("test", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("test")
