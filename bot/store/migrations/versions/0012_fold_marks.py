"""The last fold of Redis counts the database applied, so a fold is applied once.

A folder that committed its counts but couldn't delete them from Redis (a connection
reset, say) leaves them to the next fold; that fold carries the same id and finds it
here, so it drops them instead of counting them again.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deployment", sa.Column("last_fold", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("deployment") as batch:
        batch.drop_column("last_fold")
