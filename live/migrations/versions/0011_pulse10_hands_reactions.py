"""the room's pulse: raised hands (a queue, one open hand per participant) and quick reactions

Revision ID: 0011_pulse10_hands_reactions
Revises: 0010_footprint_counts
"""

import sqlalchemy as sa
from alembic import op

from live.store import UTCDateTime

revision = "0011_pulse10_hands_reactions"
down_revision = "0010_footprint_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pulse_hands",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("live_sessions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("participant_id", sa.Integer(), sa.ForeignKey("participants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("ticket", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=True),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.CheckConstraint("outcome IS NULL OR outcome IN ('lowered', 'spoke', 'cleared')",
                           name="ck_pulse_hands_outcome"),
        sa.CheckConstraint("(ended_at IS NULL) = (outcome IS NULL)", name="ck_pulse_hands_ended"),
        sa.UniqueConstraint("session_id", "ticket", name="uq_pulse_hands_ticket"),
    )
    op.create_index("uq_pulse_hands_open", "pulse_hands", ["session_id", "participant_id"], unique=True,
                    sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL"))
    op.create_table(
        "pulse_reactions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("live_sessions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("participant_id", sa.Integer(), sa.ForeignKey("participants.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("reaction", sa.String(length=10), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("reaction IN ('clap', 'like', 'love', 'laugh', 'think', 'question')",
                           name="ck_pulse_reactions_reaction"),
    )
    op.create_index("ix_pulse_reactions_session_at", "pulse_reactions", ["session_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_pulse_reactions_session_at", table_name="pulse_reactions")
    op.drop_table("pulse_reactions")
    op.drop_index("uq_pulse_hands_open", table_name="pulse_hands")
    op.drop_table("pulse_hands")
