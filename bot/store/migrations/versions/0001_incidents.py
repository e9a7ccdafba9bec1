"""Incidents, their numbering and their append-only timeline.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from bot.store.migrations.postgres import lock_down_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incident_counter",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO incident_counter (id, last_number) VALUES (1, 0)")
    op.create_table(
        "incidents",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False),
        sa.Column("lead", sa.String(64)),
        sa.Column("channel_id", sa.String(32), unique=True),
        sa.Column("channel_name", sa.String(80)),
        sa.Column("card_ts", sa.String(32)),
        sa.Column("announcement_channel_id", sa.String(32)),
        sa.Column("announcement_ts", sa.String(32)),
        sa.Column("summary", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("acknowledged_at", Timestamp),
        sa.Column("acknowledged_by", sa.String(64)),
        sa.Column("mitigated_at", Timestamp),
        sa.Column("resolved_at", Timestamp),
    )
    op.create_index("ix_incidents_status", "incidents", ["status"])
    op.create_table(
        "timeline_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("incident_number", sa.Integer, sa.ForeignKey("incidents.number"), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("data", sa.JSON().with_variant(JSONB, "postgresql"), nullable=False),
    )
    op.create_index(
        "ix_timeline_events_incident_at", "timeline_events", ["incident_number", "at", "id"]
    )
    _make_timeline_append_only()
    for table in ("alembic_version", "incident_counter", "incidents", "timeline_events"):
        lock_down_table(table)


def _make_timeline_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION timeline_events_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'timeline_events is append-only';
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER timeline_events_append_only BEFORE UPDATE OR DELETE "
            "ON timeline_events FOR EACH ROW EXECUTE FUNCTION timeline_events_append_only()"
        )
        # TRUNCATE fires no row triggers: a statement trigger guards it.
        op.execute(
            "CREATE TRIGGER timeline_events_no_truncate BEFORE TRUNCATE "
            "ON timeline_events FOR EACH STATEMENT EXECUTE FUNCTION timeline_events_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER timeline_events_no_{action.lower()} BEFORE {action} "
                "ON timeline_events BEGIN "
                "SELECT RAISE(ABORT, 'timeline_events is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER timeline_events_no_truncate ON timeline_events")
        op.execute("DROP TRIGGER timeline_events_append_only ON timeline_events")
        op.execute("DROP FUNCTION timeline_events_append_only()")
    op.drop_table("timeline_events")
    op.drop_table("incidents")
    op.drop_table("incident_counter")
