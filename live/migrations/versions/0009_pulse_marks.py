"""the room's pulse: per-session switch and the participants' pace marks (a timeline)

Revision ID: 0009_pulse_marks
Revises: 0002, 0003, 0006_security_links, 0007_offline_ack_digest
"""

import sqlalchemy as sa
from alembic import op

from live.store import UTCDateTime

revision = "0009_pulse_marks"
down_revision = ("0002", "0003", "0006_security_links", "0007_offline_ack_digest")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pulse_settings",
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("live_sessions.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "pulse_marks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("live_sessions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("participant_id", sa.Integer(), sa.ForeignKey("participants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.SmallInteger(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('pace')", name="ck_pulse_marks_kind"),
        sa.CheckConstraint("value BETWEEN -1 AND 1", name="ck_pulse_marks_value"),
    )
    op.create_index("ix_pulse_marks_session_at", "pulse_marks", ["session_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_pulse_marks_session_at", table_name="pulse_marks")
    op.drop_table("pulse_marks")
    op.drop_table("pulse_settings")
