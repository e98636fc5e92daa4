"""Signal as a participant channel: contacts (encrypted numbers) and receipts

- `signal_contacts`: who wrote to the bot's Signal number; number and Signal id are
  encrypted, `lookup` is a keyed hash to find them.
- `outbox.delivered_at`, `outbox.read_at`: delivery and read receipts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signal_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lookup", sa.String(64), nullable=False),
        sa.Column("number", sa.Text(), nullable=True),
        sa.Column("uuid", sa.Text(), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_signal_contacts_participant_id_participants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_signal_contacts"),
        sa.UniqueConstraint("lookup", name="uq_signal_contacts_lookup"),
    )
    op.create_index("ix_signal_contacts_participant_id", "signal_contacts", ["participant_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("read_at")
        batch.drop_column("delivered_at")
    op.drop_index("ix_signal_contacts_participant_id", "signal_contacts")
    op.drop_table("signal_contacts")
