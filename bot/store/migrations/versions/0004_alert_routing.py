"""Routing alert groups to incidents: the decision, its pending state, and the link.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("alert_groups") as batch:
        # pending: an incident must be opened for it (a timer row, survives a restart)
        batch.add_column(sa.Column("route_state", sa.String(16)))
        batch.add_column(sa.Column("route_severity", sa.String(8)))
        batch.add_column(sa.Column("route_page", sa.Text))  # roles to page, comma-separated
        batch.add_column(sa.Column("incident_number", sa.Integer))
        batch.add_column(sa.Column("noted_at", Timestamp))  # last repeat noted on the timeline
        batch.add_column(sa.Column("noted_count", sa.Integer, nullable=False, server_default="0"))
        batch.create_foreign_key(
            "fk_alert_groups_incident", "incidents", ["incident_number"], ["number"]
        )
        batch.create_index("ix_alert_groups_route_state", ["route_state"])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("alert_group_id", BigId))
        # One incident per alert group, even if two workers race to open it.
        batch.create_unique_constraint("uq_incidents_alert_group", ["alert_group_id"])


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint("uq_incidents_alert_group", type_="unique")
        batch.drop_column("alert_group_id")
    with op.batch_alter_table("alert_groups") as batch:
        batch.drop_index("ix_alert_groups_route_state")
        batch.drop_constraint("fk_alert_groups_incident", type_="foreignkey")
        for column in (
            "noted_count",
            "noted_at",
            "incident_number",
            "route_page",
            "route_severity",
            "route_state",
        ):
            batch.drop_column(column)
