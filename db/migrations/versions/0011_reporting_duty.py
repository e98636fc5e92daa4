"""a reporting duty makes recurring appointments: the condition keeps its schedule
(encrypted), each appointment of the series points back at it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conditions") as batch:
        batch.add_column(sa.Column("schedule", sa.Text(), nullable=True))
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("condition_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_appointments_condition_id_conditions",
            "conditions",
            ["condition_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_appointments_condition_id", ["condition_id"])


def downgrade() -> None:
    with op.batch_alter_table("appointments") as batch:
        batch.drop_index("ix_appointments_condition_id")
        batch.drop_constraint("fk_appointments_condition_id_conditions", type_="foreignkey")
        batch.drop_column("condition_id")
    with op.batch_alter_table("conditions") as batch:
        batch.drop_column("schedule")
