"""A lease on executing playbook runs, and the deploy each step left the run watching.

`playbook_runs.heartbeat_at` is renewed by the bot executing the run; a run whose lease ran
out was left by a bot that stopped (`kill -9`, a crash): it is marked `interrupted` and its
service lock freed. Runs already `running` have no heartbeat, so the first sweep frees them.
`playbook_steps.deploy_id` keeps the deploy a run made, so the message about an interrupted
run can name it.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("playbook_runs", sa.Column("heartbeat_at", sa.DateTime(timezone=True)))
    op.add_column("playbook_steps", sa.Column("deploy_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("playbook_steps") as batch:
        batch.drop_column("deploy_id")
    with op.batch_alter_table("playbook_runs") as batch:
        batch.drop_column("heartbeat_at")
