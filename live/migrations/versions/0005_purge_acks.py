"""purge: client acks tied to their session and participant; participant ids never reused

Acks used to be keyed by "p<participant id>" only: a purge left them (with the votes, words and
ideas their responses repeat), and since SQLite reused the ids of deleted participants, old
acks attached to new people. Each ack now names its session and participant (deleting either
deletes it), and the participants table gets AUTOINCREMENT. Acks whose participant or session
is already gone are deleted here.

Revision ID: 0005_purge_acks
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_purge_acks"
down_revision = "0004"
branch_labels = None
depends_on = None

STAFF_PREFIXES = ("f", "m", "s")  # facilitator, moderator, screen: "<letter><session id>"
CHUNK = 5000


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("client_acks", recreate="always") as batch:
        batch.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("participant_id", sa.Integer(), nullable=True))
    _backfill(bind)
    with op.batch_alter_table("client_acks", recreate="always") as batch:
        batch.alter_column("session_id", existing_type=sa.Integer(), nullable=False)
        batch.create_index(batch.f("ix_client_acks_at"), ["at"], unique=False)
        batch.create_index(batch.f("ix_client_acks_session_id"), ["session_id"], unique=False)
        batch.create_index(batch.f("ix_client_acks_participant_id"), ["participant_id"], unique=False)
        batch.create_foreign_key(batch.f("fk_client_acks_session_id_live_sessions"), "live_sessions",
                                 ["session_id"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key(batch.f("fk_client_acks_participant_id_participants"), "participants",
                                 ["participant_id"], ["id"], ondelete="CASCADE")
    if bind.dialect.name == "sqlite":
        # Rebuilt with AUTOINCREMENT (the migration connection has foreign keys off, so the
        # rows that reference participants are untouched). PostgreSQL sequences never reuse ids.
        with op.batch_alter_table("participants", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}):
            pass


def _backfill(bind) -> None:
    """Name each ack's session and participant; delete the acks of people or sessions gone."""
    participants = dict(bind.execute(sa.text("SELECT id, session_id FROM participants")).all())
    sessions = {row[0] for row in bind.execute(sa.text("SELECT id FROM live_sessions"))}
    acks = sa.table("client_acks", sa.column("id"), sa.column("session_id"), sa.column("participant_id"))
    last = 0
    while True:
        rows = bind.execute(sa.text("SELECT id, actor FROM client_acks WHERE id > :last ORDER BY id LIMIT :n"),
                            {"last": last, "n": CHUNK}).all()
        if not rows:
            break
        last = rows[-1][0]
        found, orphans = [], []
        for ack_id, actor in rows:
            owner = _owner(actor or "", participants, sessions)
            if owner is None:
                orphans.append(ack_id)
            else:
                found.append({"ack": ack_id, "sid": owner[0], "pid": owner[1]})
        if found:
            bind.execute(acks.update().where(acks.c.id == sa.bindparam("ack"))
                         .values(session_id=sa.bindparam("sid"), participant_id=sa.bindparam("pid")), found)
        if orphans:
            bind.execute(acks.delete().where(acks.c.id.in_(orphans)))


def _owner(actor: str, participants: dict, sessions: set) -> tuple[int, int | None] | None:
    if len(actor) < 2 or not actor[1:].isdigit():
        return None
    number = int(actor[1:])
    if actor[0] == "p":
        return (participants[number], number) if number in participants else None
    if actor[0] in STAFF_PREFIXES and number in sessions:
        return number, None
    return None


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("participants", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": False}):
            pass
    with op.batch_alter_table("client_acks", recreate="always") as batch:
        batch.drop_constraint(batch.f("fk_client_acks_participant_id_participants"), type_="foreignkey")
        batch.drop_constraint(batch.f("fk_client_acks_session_id_live_sessions"), type_="foreignkey")
        batch.drop_index(batch.f("ix_client_acks_participant_id"))
        batch.drop_index(batch.f("ix_client_acks_session_id"))
        batch.drop_index(batch.f("ix_client_acks_at"))
        batch.drop_column("participant_id")
        batch.drop_column("session_id")
