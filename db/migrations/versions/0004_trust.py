"""encrypt classifications, link staff-facing rows to their participant, record send starts

- What a classification says about a person is encrypted like message text: alert
  categories, check-in mood and answers, help-request domain, file ids. The flagged mark
  on messages is dropped: an alert row (linked to the message) already says it.
- `key_value.participant_id`: values about one participant (their topic title) are erased
  with them.
- `outbox.attempt_started_at`: a broadcast row claimed but never attempted can go again
  after a stop; one attempted is never sent twice.
- `messages.detail`: what a contact, venue, poll, dice or forward held.
- Names shown to staff become one safe line (no direction or control characters, at most
  64 characters).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, JSON?, nullable)
ENCRYPT = (
    ("alerts", "categories", True, True),
    ("checkins", "mood", False, True),
    ("checkins", "answers", True, True),
    ("checkins", "voice_file_id", False, True),
    ("help_requests", "domain", False, False),
    ("help_requests", "media_file_ids", True, True),
    ("messages", "media_file_id", False, True),
)
NAMES = (("participants", "name"), ("staff", "name"), ("invites", "name"))
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _encryptor() -> Callable[[str], str]:
    config = op.get_context().config
    keyring: Any = config.attributes.get("keyring") if config is not None else None
    if keyring is None:
        raise RuntimeError("this migration encrypts data: run it through db.migrate.upgrade")
    return keyring.encrypt  # type: ignore[no-any-return]


def _safe_name(text: str | None) -> str:
    """The name rule of this revision, frozen here (bot.flows.display_name may change)."""
    kept = []
    for char in (text or "").replace("\x00", ""):
        category = unicodedata.category(char)
        if char in _BIDI or category in ("Cc", "Zl", "Zp", "Cs", "Co", "Cn"):
            kept.append(" ")
        elif category != "Cf" or char in "\u200c\u200d":
            kept.append(char)
    name = re.sub(r"\s+", " ", "".join(kept)).strip()
    if len(name) > 64:
        name = name[:63].rstrip() + "…"
    return name if name.strip("\u200c\u200d") else "?"


def _encrypt_column(table: str, column: str, is_json: bool, nullable: bool) -> None:
    encrypt = _encryptor()
    bind = op.get_bind()
    temporary = f"{column}_sealed"
    op.add_column(table, sa.Column(temporary, sa.Text(), nullable=True))
    rows = sa.table(table, sa.column("id"), sa.column(column), sa.column(temporary))
    found = bind.execute(sa.select(rows.c.id, rows.c[column]).where(rows.c[column].is_not(None)))
    for row_id, value in found.fetchall():
        if is_json and isinstance(value, str | bytes):
            value = json.loads(value)
        plain = json.dumps(value, ensure_ascii=False) if is_json else str(value)
        bind.execute(sa.update(rows).where(rows.c.id == row_id).values({temporary: encrypt(plain)}))
    with op.batch_alter_table(table) as batch:
        batch.drop_column(column)
        batch.alter_column(
            temporary, new_column_name=column, existing_type=sa.Text(), nullable=nullable
        )


def upgrade() -> None:
    for table, column, is_json, nullable in ENCRYPT:
        _encrypt_column(table, column, is_json, nullable)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("flagged")
        batch.add_column(sa.Column("detail", sa.Text(), nullable=True))
    op.add_column(
        "outbox", sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True)
    )
    with op.batch_alter_table("key_value") as batch:
        batch.add_column(sa.Column("participant_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_key_value_participant_id_participants",
            "participants",
            ["participant_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_key_value_participant_id", ["participant_id"])
    bind = op.get_bind()
    for table, column in NAMES:
        rows = sa.table(table, sa.column("id"), sa.column(column))
        found = bind.execute(
            sa.select(rows.c.id, rows.c[column]).where(rows.c[column].is_not(None))
        )
        for row_id, name in found.fetchall():
            safe = _safe_name(name)
            if safe != name:
                bind.execute(sa.update(rows).where(rows.c.id == row_id).values({column: safe}))


def downgrade() -> None:
    raise NotImplementedError("0004 encrypts data in place; restore a backup to go back")
