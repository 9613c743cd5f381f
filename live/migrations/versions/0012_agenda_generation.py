"""the agenda's generation: a number that moves with every change of a session, an activity or
a poll's options (triggers on SQLite), so that group commits of votes read them once

Revision ID: 0012_agenda_generation
Revises: 0011_pulse10_hands_reactions
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_agenda_generation"
down_revision = "0011_pulse10_hands_reactions"
branch_labels = None
depends_on = None

# The tables a vote reads to be checked (live.store.AGENDA_TABLES, written out: a migration
# keeps the schema of its day). A later migration that rebuilds one of them on SQLite (a
# batch "move and copy") drops its triggers: it must create them again (`create_triggers`).
TABLES = ("live_sessions", "activities", "options")
OPERATIONS = ("insert", "update", "delete")


def create_triggers(table: str) -> None:
    """SQLite: every insert, update or delete on `table` moves the agenda's generation, in the
    same transaction (any process, any tool: the triggers are in the file)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for operation in OPERATIONS:
        op.execute(f"CREATE TRIGGER IF NOT EXISTS agenda_{table}_{operation} "  # noqa: S608 - our names
                   f"AFTER {operation.upper()} ON {table} BEGIN "
                   "UPDATE generations SET value = value + 1 WHERE name = 'agenda'; END")


def upgrade() -> None:
    op.create_table(
        "generations",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.execute("INSERT INTO generations (name, value) VALUES ('agenda', 0)")  # a literal: replayable
    for table in TABLES:
        create_triggers(table)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER IF EXISTS agenda_{table}_{operation}")
    op.drop_table("generations")
