"""Who may see what: roles read from the database at every action, removal at once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.services import admin
from tests.clock import ManualClock
from tests.conftest import TEST_KEY
from tests.e2e.botprocess import bot_env, oprit, oprit_json
from tests.e2e.seed import seed_participants
from tests.harness import Harness, running_harness


@pytest.fixture
async def h(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(sqlite_url, clock) as running:
        yield running


async def test_removed_staff_lose_access_at_once(h: Harness) -> None:
    officer = h.user(first_name="Officer")
    await h.add_staff(officer)
    sam = h.user()
    participant_id = await h.register(sam, officer_telegram_id=officer.chat_id)
    sam.send("ik ben opgepakt")
    await h.pump()
    alert_message = h.api.last_message_id(officer.chat_id)
    async with h.runtime.sessions() as session, session.begin():
        await admin.remove_staff(session, officer.chat_id, h.clock.now())
    officer.send(f"/case {participant_id}")
    officer.press("Acknowledge")
    officer.reply_to(alert_message, "dit mag niet meer aankomen")
    await h.pump()
    assert "dit mag niet meer aankomen" not in sam.replies()
    assert not any("Case of" in text or "Acknowledged" in text for text in officer.replies())


async def test_backup_and_coordinator_see_everyone_officers_only_their_own(h: Harness) -> None:
    first, second = h.user(first_name="First"), h.user(first_name="Second")
    backup, coordinator = h.user(first_name="Backup"), h.user(first_name="Coordinator")
    await h.add_staff(first, name="First Officer")
    await h.add_staff(second, name="Second Officer")
    await h.add_staff(backup, backup=True, name="Backup Officer")
    await h.add_staff(coordinator, role="coordinator", name="Coordinator Test")
    sam = h.user()
    participant_id = await h.register(sam, officer_telegram_id=first.chat_id)
    for member in (first, second, backup, coordinator):
        member.send(f"/case {participant_id}")
    await h.pump()
    assert "Case of" in first.last_reply()
    assert "Case of" not in second.last_reply()
    assert "Case of" in backup.last_reply()
    assert "Case of" in coordinator.last_reply()


def test_audit_lists_staff_changes_invites_exports_and_erasures(tmp_path: Path) -> None:
    env = bot_env(
        "http://127.0.0.1:9/bot", tmp_path, OPRIT_BOT_TOKEN="", OPRIT_ENCRYPTION_KEY=TEST_KEY
    )
    oprit_json(
        env,
        tmp_path,
        "staff",
        "add",
        "--telegram-id",
        "6400001",
        "--role",
        "officer",
        "--name",
        "Officer Test",
    )
    oprit_json(env, tmp_path, "staff", "remove", "--telegram-id", "6400001")
    assert oprit(env, tmp_path, "invite", "create").returncode == 1  # no bot name known yet
    (telegram_id,) = seed_participants(tmp_path, 1)
    oprit_json(env, tmp_path, "export", "--participant", "1")
    oprit_json(env, tmp_path, "erase", "--participant", "1")
    result = oprit(env, tmp_path, "audit", "--since", "1d", "--json")
    assert result.returncode == 0, result.stderr
    actions = [line["action"] for line in json.loads(result.stdout)]
    for expected in ("staff_added", "staff_removed", "export", "erased"):
        assert expected in actions
    assert str(telegram_id) not in result.stdout
    assert oprit(env, tmp_path, "export", "--participant", "1").returncode == 1


async def test_removed_staff_leave_the_officer_group(sqlite_url: str, clock: ManualClock) -> None:
    forum = -1001234567890
    async with running_harness(sqlite_url, clock, officer_chat_id=forum) as h:
        officer = h.user(first_name="Officer")
        await h.add_staff(officer)
        async with h.runtime.sessions() as session, session.begin():
            await admin.remove_staff(session, officer.chat_id, h.clock.now(), forum)
        await h.pump()
        bans = [c for c in h.api.calls("banChatMember") if c.ok]
        assert [(c.params["chat_id"], c.params["user_id"]) for c in bans] == [
            (forum, officer.chat_id)
        ]
        async with h.runtime.sessions() as session, session.begin():  # taken back on
            await admin.add_staff(
                session,
                telegram_id=officer.chat_id,
                role="officer",
                name="Officer Test",
                backup=False,
                language="en",
                now=h.clock.now(),
                officer_group=forum,
            )
        await h.pump()
        assert [c.params["user_id"] for c in h.api.calls("unbanChatMember") if c.ok] == [
            officer.chat_id
        ]
