"""channel-neutral conversation: flow state per person and channel, outbox actions,
participant addresses, answers of short question flows

- `conversation_state` is keyed by participant or staff member and channel instead of
  a Telegram id (rows are carried over).
- `outbox.method` (Bot API method names) becomes `outbox.action` (what to do; the
  channel picks the call) and rows know their channel.
- `participants.channel` and `participants.address` (for messengers other than
  Telegram, whose address stays `telegram_id`).
- `answers`: what a short question flow asked and heard.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIONS = {
    "sendMessage": "message",
    "sendDocument": "message",
    "copyMessage": "copy",
    "editMessageText": "edit",
    "editForumTopic": "thread_title",
    "deleteForumTopic": "thread_delete",
    "banChatMember": "member_remove",
    "unbanChatMember": "member_restore",
    "deleteMessage": "message_delete",
}


def upgrade() -> None:
    with op.batch_alter_table("participants") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(16), nullable=False, server_default="telegram")
        )
        batch.add_column(sa.Column("address", sa.String(255), nullable=True))
        batch.create_unique_constraint("uq_participants_address", ["channel", "address"])

    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(16), nullable=False, server_default="telegram")
        )
        batch.add_column(sa.Column("action", sa.String(32), nullable=True))
    outbox = sa.table("outbox", sa.column("method"), sa.column("action"))
    for method, action in ACTIONS.items():
        op.execute(sa.update(outbox).where(outbox.c.method == method).values(action=action))
    op.execute(sa.update(outbox).where(outbox.c.action.is_(None)).values(action="message"))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("action", existing_type=sa.String(32), nullable=False)
        batch.drop_column("method")

    bind = op.get_bind()
    # Flow states are few (people in the middle of a flow): carried over in memory, so the
    # new table can take the old one's name and constraint names.
    carried = [
        *bind.execute(
            sa.text(
                "SELECT p.id, NULL, s.flow, s.step, s.token, s.data, s.updated_at "
                "FROM conversation_state s JOIN participants p ON p.telegram_id = s.telegram_id"
            )
        ).fetchall(),
        *bind.execute(
            sa.text(
                "SELECT NULL, t.id, s.flow, s.step, s.token, s.data, s.updated_at "
                "FROM conversation_state s JOIN staff t ON t.telegram_id = s.telegram_id"
            )
        ).fetchall(),
    ]
    op.drop_table("conversation_state")
    op.create_table(
        "conversation_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("flow", sa.String(32), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("token", sa.String(16), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_conversation_state_participant_id_participants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name="fk_conversation_state_staff_id_staff",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_state"),
        sa.UniqueConstraint("participant_id", "channel", name="uq_conversation_state_participant"),
        sa.UniqueConstraint("staff_id", "channel", name="uq_conversation_state_staff"),
    )
    if carried:
        bind.execute(
            sa.text(
                "INSERT INTO conversation_state (participant_id, staff_id, channel, flow, step, "
                "token, data, updated_at) VALUES (:participant, :staff, 'telegram', :flow, "
                ":step, :token, :data, :updated_at)"
            ),
            [
                {
                    "participant": row[0],
                    "staff": row[1],
                    "flow": row[2],
                    "step": row[3],
                    "token": row[4],
                    "data": row[5],
                    "updated_at": row[6],
                }
                for row in carried
            ],
        )

    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(32), nullable=False),
        sa.Column("question", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name="fk_answers_participant_id_participants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
    )
    op.create_index("ix_answers_participant_id", "answers", ["participant_id"])


def downgrade() -> None:
    raise NotImplementedError("0005 reshapes data in place; restore a backup to go back")
