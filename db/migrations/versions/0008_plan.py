"""the plan: enrolment before release, plan tasks, partners, referrals, conditions, attendance

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("release_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("facility", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("release_reminded_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("release_greeted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("appointments") as batch:
        batch.add_column(sa.Column("attendance", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("attendance_asked_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("reach", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_partners"),
    )
    op.create_table(
        "plan_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("template", sa.String(32), nullable=True),
        sa.Column("owner", sa.String(16), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_plan_tasks_participant_id_participants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name="fk_plan_tasks_partner_id_partners"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_plan_tasks"),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("first_contact_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stale_alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_referrals_participant_id_participants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name="fk_referrals_partner_id_partners"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_referrals"),
    )
    op.create_index("ix_referrals_participant_id", "referrals", ["participant_id"])
    op.create_index("ix_referrals_partner_id", "referrals", ["partner_id"])
    op.create_table(
        "conditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("imposed_by", sa.Text(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_conditions_participant_id_participants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_conditions"),
    )
    op.create_index("ix_conditions_participant_id", "conditions", ["participant_id"])
    op.create_index("ix_plan_tasks_participant_id", "plan_tasks", ["participant_id"])
    op.create_index("ix_plan_tasks_partner_id", "plan_tasks", ["partner_id"])
    op.create_index("ix_plan_tasks_status_due", "plan_tasks", ["status", "due_on"])


def downgrade() -> None:
    op.drop_index("ix_conditions_participant_id", table_name="conditions")
    op.drop_table("conditions")
    op.drop_index("ix_referrals_partner_id", table_name="referrals")
    op.drop_index("ix_referrals_participant_id", table_name="referrals")
    op.drop_table("referrals")
    op.drop_index("ix_plan_tasks_status_due", table_name="plan_tasks")
    op.drop_index("ix_plan_tasks_partner_id", table_name="plan_tasks")
    op.drop_index("ix_plan_tasks_participant_id", table_name="plan_tasks")
    op.drop_table("plan_tasks")
    op.drop_table("partners")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_column("attendance_asked_at")
        batch.drop_column("attendance")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("release_greeted_at")
        batch.drop_column("release_reminded_at")
        batch.drop_column("facility")
        batch.drop_column("release_date")
