"""This database's deployment id: it names the Redis keys of the bot that uses it.

Two bots on two databases that share one Redis (staging and production on one Upstash
database) get different ids, so neither touches the other's keys. A database created anew
gets a new id, so markers Redis kept for the old one are never read.

Revision ID: 0010
Revises: 0009
"""

import secrets

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.postgres import lock_down_table

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "deployment",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("namespace", sa.String(32), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_deployment_one_row"),
    )
    op.bulk_insert(table, [{"id": 1, "namespace": secrets.token_hex(6)}])
    lock_down_table("deployment")


def downgrade() -> None:
    op.drop_table("deployment")
