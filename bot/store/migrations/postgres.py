"""Supabase hardening every migration applies to the tables it creates."""

import sqlalchemy as sa
from alembic import op

SUPABASE_API_ROLES = ("anon", "authenticated")


def lock_down_table(table: str) -> None:
    """Row-level security on, and nothing granted to Supabase's API roles.

    With RLS enabled and no policy, Supabase's anon/authenticated keys read nothing
    through the Data API; the bot connects as its own role and is unaffected.
    """
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    present = bind.execute(
        sa.text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:roles)"),
        {"roles": list(SUPABASE_API_ROLES)},
    ).scalars()
    for role in present:
        op.execute(f'REVOKE ALL ON TABLE "{table}" FROM "{role}"')
