"""paper: counts entered by staff from a show of hands or paper ballots, logged entry by entry

Revision ID: 0008_paper_counts
Revises: 0002, 0003, 0006_security_links, 0007_offline_ack_digest
"""

import sqlalchemy as sa
from alembic import op

import live.store

revision = "0008_paper_counts"
down_revision = ("0002", "0003", "0006_security_links", "0007_offline_ack_digest")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.Column("total_after", sa.Integer(), nullable=False),
        sa.Column("entered_by", sa.String(length=20), nullable=False),
        sa.Column("created_at", live.store.UTCDateTime(), nullable=False),
        sa.CheckConstraint("delta <> 0 AND delta BETWEEN -100000 AND 100000",
                           name=op.f("ck_paper_counts_delta")),
        sa.CheckConstraint("total_after BETWEEN 0 AND 100000", name=op.f("ck_paper_counts_total")),
        sa.CheckConstraint("(option_id IS NULL) <> (value IS NULL)",
                           name=op.f("ck_paper_counts_target")),
        sa.CheckConstraint("entered_by IN ('facilitator', 'moderator', 'import')",
                           name=op.f("ck_paper_counts_by")),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"],
                                name=op.f("fk_paper_counts_activity_id_activities"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["option_id"], ["options.id"],
                                name=op.f("fk_paper_counts_option_id_options"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_counts")),
    )
    op.create_index(op.f("ix_paper_counts_activity_id"), "paper_counts", ["activity_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_counts_activity_id"), table_name="paper_counts")
    op.drop_table("paper_counts")
