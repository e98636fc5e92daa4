"""Outbox queries: add rows, claim due rows atomically, record what happened."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, func, or_, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from db.cache import cache
from db.enums import Action, OutboxStatus
from db.models import OUTBOX_DEFAULT_PRIORITY, OutboxItem


def note_queued(session: AsyncSession, priority: int) -> None:
    """Remember that this transaction queued a row of this priority."""
    known = cache(session)
    if known.most_urgent_queued is None or priority < known.most_urgent_queued:
        known.most_urgent_queued = priority


def add(session: AsyncSession, **fields: Any) -> OutboxItem:
    """Queue one outgoing message (flushed with the caller's transaction)."""
    fields.setdefault("priority", OUTBOX_DEFAULT_PRIORITY)
    item = OutboxItem(**fields)
    session.add(item)
    note_queued(session, item.priority)
    return item


def queued_any(session: AsyncSession) -> bool:
    """Whether this session queued an outbox row."""
    return cache(session).most_urgent_queued is not None


def most_urgent_queued(session: AsyncSession) -> int | None:
    """The lowest priority value this session queued, if it queued anything."""
    return cache(session).most_urgent_queued


@dataclass
class ClaimedRow:
    """An outbox row taken by this worker. `token` is the payload as stored (encrypted):
    the sender decrypts it row by row, so one unreadable row cannot stop the others."""

    id: int
    kind: str
    priority: int
    channel: str
    action: str
    chat_id: int
    message_thread_id: int | None
    participant_id: int | None
    staff_id: int | None
    alert_id: int | None
    broadcast_id: int | None
    attempts: int
    token: str
    payload: dict[str, Any] | None = None  # set by the sender once decrypted


async def claim_due(
    session: AsyncSession,
    worker: str,
    now: datetime,
    limit: int,
    *,
    per_chat: int,
    per_group_chat: int | None = None,
    kinds: Sequence[str] | None = None,
    exclude_kinds: Sequence[str] = (),
    include_groups: bool = True,
    busy_chats: Collection[int] = (),
    urgent_busy_chats: Collection[int] = (),
    urgent_below: int | None = None,
    max_broadcasts: int | None = None,
    max_routine: int | None = None,
    routine_priority: int = 0,
    one_per_chat: Collection[str] = (),
) -> list[ClaimedRow]:
    """Atomically take due rows for this worker, most urgent first, at most `per_chat` for
    one chat (so one slow group chat cannot hold everything).

    Candidates are read first (on PostgreSQL with FOR UPDATE SKIP LOCKED, so rows another
    worker is claiming are skipped), then taken with one UPDATE … WHERE status = 'pending'
    RETURNING: a row can only ever be taken once, whatever the backend. At most
    `max_broadcasts` broadcast rows (beyond `limit`) and `max_routine` other rows with a
    priority of `routine_priority` or more are taken: the sender claims only what it can
    send soon.
    Group chats (negative ids) get `per_group_chat` rows at most, and none without
    `include_groups`. Of the kinds in `one_per_chat` (copies for staff), a chat gets one.
    A chat in `busy_chats` (still sending what it was given) only gets rows more urgent than
    `urgent_below`, and those only while it is not in `urgent_busy_chats`.
    """
    filters: list[ColumnElement[bool]] = [
        OutboxItem.status == OutboxStatus.PENDING,
        OutboxItem.due_at <= now,
    ]
    if kinds is not None:
        filters.append(OutboxItem.kind.in_(kinds))
    if exclude_kinds:
        filters.append(OutboxItem.kind.not_in(exclude_kinds))
    if busy_chats:
        quiet: ColumnElement[bool] = OutboxItem.chat_id.not_in(list(busy_chats))
        if urgent_below is not None:
            quiet = or_(quiet, OutboxItem.priority < urgent_below)
        filters.append(quiet)
    if urgent_busy_chats:
        filters.append(OutboxItem.chat_id.not_in(list(urgent_busy_chats)))
    if not include_groups:
        filters.append(OutboxItem.chat_id > 0)
    candidates = [*await _candidates(session, filters, limit * 4)]
    if max_broadcasts:
        # Broadcast rows are looked for on their own: behind a backlog of replies they
        # would never be among the most urgent candidates, and the broadcast would stop.
        candidates = [row for row in candidates if row[2] != "broadcast"]
        own = [*filters, OutboxItem.kind == "broadcast"]
        candidates += await _candidates(session, own, max_broadcasts)
    picked: list[int] = []
    taken_per_chat: dict[int, int] = {}
    copies_in_chat: set[int] = set()
    broadcasts = routine = 0
    for item_id, chat_id, kind, priority in candidates:
        most = per_group_chat if per_group_chat is not None and chat_id < 0 else per_chat
        if taken_per_chat.get(chat_id, 0) >= most:
            continue
        if kind in one_per_chat:
            # A chat sends its claimed rows in order, about one a second: a batch of copies
            # would make an alert that comes next wait behind all of them.
            if chat_id in copies_in_chat:
                continue
            copies_in_chat.add(chat_id)
        is_broadcast = kind == "broadcast" and max_broadcasts is not None
        if is_broadcast and broadcasts >= (max_broadcasts or 0):
            continue
        is_routine = max_routine is not None and priority >= routine_priority and not is_broadcast
        if is_routine and routine >= (max_routine or 0):
            continue
        if len(picked) - broadcasts >= limit and not is_broadcast:
            continue
        broadcasts += is_broadcast
        routine += is_routine
        taken_per_chat[chat_id] = taken_per_chat.get(chat_id, 0) + 1
        picked.append(item_id)
    if not picked:
        return []
    claimed = await session.scalars(
        update(OutboxItem)
        .where(OutboxItem.id.in_(picked), OutboxItem.status == OutboxStatus.PENDING)
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=worker,
            claimed_at=now,
            attempts=OutboxItem.attempts + 1,
        )
        .returning(OutboxItem.id)
    )
    ids = list(claimed.all())
    if not ids:
        return []
    rows = await session.execute(
        select(
            OutboxItem.id,
            OutboxItem.kind,
            OutboxItem.priority,
            OutboxItem.channel,
            OutboxItem.action,
            OutboxItem.chat_id,
            OutboxItem.message_thread_id,
            OutboxItem.participant_id,
            OutboxItem.staff_id,
            OutboxItem.alert_id,
            OutboxItem.broadcast_id,
            OutboxItem.attempts,
            type_coerce(OutboxItem.payload, Text).label("token"),
        )
        .where(OutboxItem.id.in_(ids))
        .order_by(OutboxItem.priority, OutboxItem.due_at, OutboxItem.id)
    )
    return [ClaimedRow(**row._mapping) for row in rows.all()]


async def _candidates(
    session: AsyncSession, filters: Sequence[ColumnElement[bool]], limit: int
) -> Sequence[Any]:
    """Due rows most urgent first (id, chat, kind, priority); on PostgreSQL rows another
    worker is claiming are skipped."""
    query = (
        select(OutboxItem.id, OutboxItem.chat_id, OutboxItem.kind, OutboxItem.priority)
        .where(*filters)
        .order_by(OutboxItem.priority, OutboxItem.due_at, OutboxItem.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return (await session.execute(query)).all()


async def finish(session: AsyncSession, item_id: int, **values: Any) -> None:
    """Record the outcome of one send attempt."""
    await session.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(**values))


async def claimants(session: AsyncSession) -> list[str]:
    """Workers that hold rows in `sending` right now."""
    names = await session.scalars(
        select(OutboxItem.claimed_by).where(OutboxItem.status == OutboxStatus.SENDING).distinct()
    )
    return [name for name in names.all() if name]


async def recover_abandoned(
    session: AsyncSession, dead_workers: Sequence[str], no_resend_kinds: Sequence[str]
) -> tuple[int, int]:
    """Rows a dead worker left in `sending`: sent again, except kinds where a second copy
    is worse than none (broadcasts) whose send had started, which are marked `unknown`."""
    if not dead_workers:
        return 0, 0
    stale = OutboxItem.status == OutboxStatus.SENDING, OutboxItem.claimed_by.in_(dead_workers)
    attempted = OutboxItem.kind.in_(no_resend_kinds) & OutboxItem.attempt_started_at.is_not(None)
    dropped = await session.execute(
        update(OutboxItem)
        .where(*stale, attempted)
        .values(status=OutboxStatus.UNKNOWN, error="worker stopped while sending")
    )
    again = await session.execute(
        update(OutboxItem)
        .where(*stale)
        .values(status=OutboxStatus.PENDING, claimed_by=None, attempt_started_at=None)
    )
    return int(getattr(again, "rowcount", 0)), int(getattr(dropped, "rowcount", 0))


async def release(session: AsyncSession, worker: str, item_ids: Sequence[int]) -> int:
    """Claimed rows this worker never attempted (it is stopping): back to pending."""
    if not item_ids:
        return 0
    result = await session.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id.in_(list(item_ids)),
            OutboxItem.status == OutboxStatus.SENDING,
            OutboxItem.claimed_by == worker,
            OutboxItem.attempt_started_at.is_(None),
        )
        .values(status=OutboxStatus.PENDING, claimed_by=None, attempts=OutboxItem.attempts - 1)
    )
    return int(getattr(result, "rowcount", 0))


async def postpone_chat(session: AsyncSession, chat_id: int | None, until: datetime) -> None:
    """Flood control: nothing pending for this chat (None: for anyone) before `until`."""
    query = update(OutboxItem).where(
        OutboxItem.status == OutboxStatus.PENDING, OutboxItem.due_at < until
    )
    if chat_id is not None:
        query = query.where(OutboxItem.chat_id == chat_id)
    await session.execute(query.values(due_at=until))


async def next_due_at(session: AsyncSession) -> datetime | None:
    """When the next pending row falls due (to sleep exactly that long)."""
    return await session.scalar(
        select(func.min(OutboxItem.due_at)).where(OutboxItem.status == OutboxStatus.PENDING)
    )


async def posted(
    session: AsyncSession, chat_id: int, telegram_message_id: int
) -> tuple[str, int | None] | None:
    """The kind and participant of a message the bot posted in a chat (to see what a staff
    member's reply answers); None when the bot did not post it."""
    row = (
        await session.execute(
            select(OutboxItem.kind, OutboxItem.participant_id).where(
                OutboxItem.chat_id == chat_id,
                OutboxItem.telegram_message_id == telegram_message_id,
            )
        )
    ).first()
    return (str(row[0]), row[1]) if row is not None else None


async def cancel_pending(session: AsyncSession, alert_id: int) -> int:
    """Rows for an alert that are no longer needed and not sent yet; returns how many."""
    result = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.alert_id == alert_id, OutboxItem.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, error="no longer needed")
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def latest_of(
    session: AsyncSession, kind: str, staff_id: int, participant_id: int, since: datetime
) -> OutboxItem | None:
    """The newest row of a kind for a staff member about a participant, queued since a
    moment (`due_at`: rows are queued due at the moment they are made)."""
    return await session.scalar(
        select(OutboxItem)
        .where(
            OutboxItem.kind == kind,
            OutboxItem.staff_id == staff_id,
            OutboxItem.participant_id == participant_id,
            OutboxItem.due_at >= since,
        )
        .order_by(OutboxItem.id.desc())
        .limit(1)
    )


async def wrote_to_since(
    session: AsyncSession, staff_id: int, participant_id: int, since: datetime
) -> bool:
    """Whether the staff member wrote to the participant (a relayed message) since then."""
    found = await session.scalar(
        select(OutboxItem.id)
        .where(
            OutboxItem.kind == "relay",
            OutboxItem.staff_id == staff_id,
            OutboxItem.participant_id == participant_id,
            OutboxItem.due_at >= since,
        )
        .limit(1)
    )
    return found is not None


async def sent_alert_messages(session: AsyncSession, alert_id: int) -> Sequence[OutboxItem]:
    """The alert messages (not media copies) that reached a chat, to edit them in place."""
    return (
        await session.scalars(
            select(OutboxItem).where(
                OutboxItem.alert_id == alert_id,
                OutboxItem.kind == "alert",
                OutboxItem.action == Action.MESSAGE,
                OutboxItem.status == OutboxStatus.SENT,
                OutboxItem.telegram_message_id.is_not(None),
            )
        )
    ).all()
