"""Alert notices: the Slack messages alert groups are shown in, with their send timers.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.postgres import lock_down_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alert_notices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("group_by", sa.String(400), nullable=False),  # "project|environment"
        sa.Column("status", sa.String(16), nullable=False),  # open, closed
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("channel_id", sa.String(32)),
        sa.Column("message_ts", sa.String(32)),
        sa.Column("sent_at", Timestamp),
        sa.Column("version", sa.Integer, nullable=False),  # bumped by every change
        sa.Column("sent_version", sa.Integer, nullable=False),  # what Slack shows
        sa.Column("due_at", Timestamp),  # the timer: send (again) at this time; null = idle
    )
    op.create_index(
        "ux_alert_notices_open",
        "alert_notices",
        ["group_by"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_alert_notices_due", "alert_notices", ["due_at"])
    with op.batch_alter_table("alert_groups") as batch:
        batch.add_column(sa.Column("notice_id", sa.BigInteger().with_variant(sa.Integer, "sqlite")))
        batch.create_foreign_key("fk_alert_groups_notice", "alert_notices", ["notice_id"], ["id"])
        batch.create_index("ix_alert_groups_notice", ["notice_id"])
    lock_down_table("alert_notices")


def downgrade() -> None:
    with op.batch_alter_table("alert_groups") as batch:
        batch.drop_index("ix_alert_groups_notice")
        batch.drop_constraint("fk_alert_groups_notice", type_="foreignkey")
        batch.drop_column("notice_id")
    op.drop_table("alert_notices")
