"""client acks remember the event they answered (a client id reused for another event is refused)

Revision ID: 0005_faults_ack_event
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_faults_ack_event"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("client_acks") as batch:
        batch.add_column(sa.Column("event", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("client_acks") as batch:
        batch.drop_column("event")
