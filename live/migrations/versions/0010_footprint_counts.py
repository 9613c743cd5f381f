"""the footprint of a session: what the server served for it (bytes, requests, CPU, peak phones)

Revision ID: 0010_footprint_counts
Revises: 0008_cards_door_codes, 0008_paper_counts, 0008_timer_activity_timer, 0009_pulse_marks
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_footprint_counts"
down_revision = ("0008_cards_door_codes", "0008_paper_counts", "0008_timer_activity_timer",
                 "0009_pulse_marks")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "session_footprints",
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("live_sessions.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("http_bytes", sa.BigInteger(), nullable=False),
        sa.Column("http_requests", sa.Integer(), nullable=False),
        sa.Column("socket_bytes_in", sa.BigInteger(), nullable=False),
        sa.Column("socket_packets_in", sa.Integer(), nullable=False),
        sa.Column("socket_bytes_out", sa.BigInteger(), nullable=False),
        sa.Column("socket_packets_out", sa.Integer(), nullable=False),
        sa.Column("cpu_seconds", sa.Float(), nullable=False),
        sa.Column("peak_phones", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("session_footprints")
