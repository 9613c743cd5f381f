"""purge: archive jobs (purge, retention) run by the archive worker, with their progress

Revision ID: 0006_purge_jobs
Revises: 0005_purge_acks
"""

import sqlalchemy as sa
from alembic import op

import live.store

revision = "0006_purge_jobs"
down_revision = "0005_purge_acks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=40), nullable=True),
        sa.Column("created_at", live.store.UTCDateTime(), nullable=False),
        sa.Column("updated_at", live.store.UTCDateTime(), nullable=False),
        sa.Column("finished_at", live.store.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_jobs")),
    )


def downgrade() -> None:
    op.drop_table("archive_jobs")
