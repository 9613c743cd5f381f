"""one-time voting codes handed at the door: a door_codes table (hashes, never who used them)

Revision ID: 0008_cards_door_codes
Revises: 0002, 0003, 0006_security_links, 0007_offline_ack_digest
"""

import sqlalchemy as sa
from alembic import op

import live.store

revision = "0008_cards_door_codes"
down_revision = ("0002", "0003", "0006_security_links", "0007_offline_ack_digest")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "door_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=True),
        sa.Column("issued_at", live.store.UTCDateTime(), nullable=False),
        sa.Column("used_at", live.store.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", live.store.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["live_sessions.id"],
                                name=op.f("fk_door_codes_session_id_live_sessions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_door_codes")),
        sa.UniqueConstraint("session_id", "number", name=op.f("uq_door_codes_session_id_number")),
        sa.UniqueConstraint("session_id", "code_hash", name=op.f("uq_door_codes_session_id_code_hash")),
    )


def downgrade() -> None:
    op.drop_table("door_codes")
