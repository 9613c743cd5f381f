"""states: CHECK constraints on the states of sessions and activities

The allowed states are those of live/sessions/lifecycle.py; written out here so that this
migration keeps meaning what it meant when later versions change the lifecycle.

Revision ID: 0005_arch_states
Revises: 0001
"""

from alembic import op

revision = "0005_arch_states"
down_revision = "0001"
branch_labels = None
depends_on = None

CHECKS = {
    "live_sessions": "state IN ('draft', 'live', 'ended')",
    "activities": "state IN ('draft', 'open', 'closed')",
}


def upgrade() -> None:
    for table, condition in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(op.f(f"ck_{table}_state"), condition)


def downgrade() -> None:
    for table in CHECKS:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_state"), type_="check")
