"""capability links stored hashed: a session_links table; the clear tokens are dropped

Every existing token is moved as its SHA-256 (it keeps working); it cannot be shown any more
(no nonce): the organiser or the facilitator issues a new link to see one again.

Revision ID: 0006_security_links
Revises: 0005_arch_states
"""

import hashlib

import sqlalchemy as sa
from alembic import op

import live.store

revision = "0006_security_links"
# After the state CHECK constraints: both rebuild live_sessions on SQLite, one after the other.
down_revision = "0005_arch_states"
branch_labels = None
depends_on = None

ROLES = ("facilitator", "moderator", "screen")


def upgrade() -> None:
    op.create_table(
        "session_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=True),
        sa.Column("issued_at", live.store.UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('facilitator', 'moderator', 'screen')",
                           name=op.f("ck_session_links_role")),
        sa.ForeignKeyConstraint(["session_id"], ["live_sessions.id"],
                                name=op.f("fk_session_links_session_id_live_sessions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_links")),
        sa.UniqueConstraint("session_id", "role", name=op.f("uq_session_links_session_id_role")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_session_links_token_hash")),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, facilitator_token, moderator_token, screen_token, created_at FROM live_sessions"
    )).fetchall()
    moved = []
    for session_id, *tokens, created_at in rows:
        for role, token in zip(ROLES, tokens, strict=True):
            moved.append({"session_id": session_id, "role": role, "issued_at": created_at,
                          "token_hash": hashlib.sha256(token.encode()).hexdigest()})
    if moved:  # the stored timestamp as it is (no conversion through the model's type)
        connection.execute(sa.text(
            "INSERT INTO session_links (session_id, role, token_hash, issued_at) "
            "VALUES (:session_id, :role, :token_hash, :issued_at)"), moved)
    with op.batch_alter_table("live_sessions") as batch:
        for role in ROLES:
            batch.drop_constraint(op.f(f"uq_live_sessions_{role}_token"), type_="unique")
            batch.drop_column(f"{role}_token")


def downgrade() -> None:
    raise NotImplementedError("the clear tokens are gone: restore a backup instead")
