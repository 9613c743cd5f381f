"""archive: imported/read-only sessions, exports, purges, frozen aggregates, retention

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import live.store

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_sessions",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", live.store.UTCDateTime(), nullable=True),
        sa.Column("original_state", sa.String(length=10), nullable=True),
        sa.Column("original_ended_at", live.store.UTCDateTime(), nullable=True),
        sa.Column("last_exported_at", live.store.UTCDateTime(), nullable=True),
        sa.Column("purged_at", live.store.UTCDateTime(), nullable=True),
        sa.Column("frozen", sa.JSON(), nullable=True),
        sa.Column("participant_count", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["live_sessions.id"],
                                name=op.f("fk_archive_sessions_session_id_live_sessions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_archive_sessions")),
    )
    op.create_table(
        "archive_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_settings")),
    )


def downgrade() -> None:
    op.drop_table("archive_settings")
    op.drop_table("archive_sessions")
