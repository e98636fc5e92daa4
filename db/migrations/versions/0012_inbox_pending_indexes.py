"""indexes for the inbox's backlog: a chat's unprocessed updates and the urgent ones are
found without reading every unprocessed update (under a burst the backlog reached 20,000
rows, and each group of updates read all of them twice)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_inbox_chat_pending", "inbox", ["chat_id", "processed_at"])
    op.create_index("ix_inbox_urgent_pending", "inbox", ["urgent", "processed_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_urgent_pending", table_name="inbox")
    op.drop_index("ix_inbox_chat_pending", table_name="inbox")
