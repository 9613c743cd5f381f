"""client acks remember a digest of what was sent (a client id reused with another payload is refused)

Revision ID: 0007_offline_ack_digest
Revises: 0005_faults_ack_event, 0006_purge_jobs
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_offline_ack_digest"
down_revision = ("0005_faults_ack_event", "0006_purge_jobs")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("client_acks") as batch:
        batch.add_column(sa.Column("digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("client_acks") as batch:
        batch.drop_column("digest")
