"""inbox rows know their chat and whether they look like a crisis

Under a burst of everyday messages a crisis message waited behind the whole backlog
(alert p99 above 2 s at 100 messages a second). The chat and a quick crisis check are
stored with the update, so the inbox takes that chat first.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inbox", sa.Column("chat_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "inbox", sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("urgent")
        batch.drop_column("chat_id")
