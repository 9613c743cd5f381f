"""an activity's timer: its deadline (or the seconds left while paused), length, auto-close

Revision ID: 0008_timer_activity_timer
Revises: 0007_offline_ack_digest
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_timer_activity_timer"
down_revision = "0007_offline_ack_digest"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.add_column(sa.Column("timer_ends_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("timer_left", sa.Float(), nullable=True))
        batch.add_column(sa.Column("timer_duration", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("timer_autoclose", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_index("ix_activities_timer_ends_at", ["timer_ends_at"])


def downgrade() -> None:
    with op.batch_alter_table("activities") as batch:
        batch.drop_index("ix_activities_timer_ends_at")
        batch.drop_column("timer_autoclose")
        batch.drop_column("timer_duration")
        batch.drop_column("timer_left")
        batch.drop_column("timer_ends_at")
