"""Enrolment before release, the plan and its checklist, the linked invite, the welcome
with the first week and the plan, and release day; on SQLite and PostgreSQL, with the
in-memory channel and a manual clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.channels.memory import MemoryChannel
from bot.conversation.choices import ChoiceId
from bot.conversation.flow import FlowContext
from bot.engine import scheduler
from bot.flows import plan as plan_flow
from bot.runtime import Runtime
from bot.services import (
    admin,
    appointments,
    conditions,
    enrolment,
    export,
    partners,
    plan,
    privacy,
    referrals,
)
from bot.services.invites import InviteError, create_invite
from db import plans as plans_db
from db.enums import ReferralStatus, TaskStatus
from db.models import Alert, AuditEntry, Condition, Invite, OutboxItem, Participant, PlanTask
from tests.clock import ManualClock

USER = 5_551_001
OFFICER = 5_559_001
RELEASE = date(2027, 1, 15)  # the clock starts on Thursday 3 December 2026, 10:00 local


async def _enrol(rt: Runtime, **kwargs: Any) -> int:
    values: dict[str, Any] = {"name": "Test Deelnemer", "release_date": RELEASE}
    values.update(kwargs)
    async with rt.sessions() as session, session.begin():
        participant = await enrolment.enrol(
            session,
            now=rt.clock.now(),
            zone=rt.settings.tz,
            default_language="nl",
            **values,
        )
        return participant.id


async def _officer(rt: Runtime) -> None:
    async with rt.sessions() as session, session.begin():
        await admin.add_staff(
            session,
            telegram_id=OFFICER,
            role="officer",
            name="Officer Test",
            backup=False,
            language="en",
            now=rt.clock.now(),
        )


async def _counts(rt: Runtime) -> tuple[int, int, int]:
    async with rt.sessions() as session:
        people = await session.scalar(select(func.count()).select_from(Participant))
        tasks = await session.scalar(select(func.count()).select_from(PlanTask))
        invites = await session.scalar(select(func.count()).select_from(Invite))
    return people or 0, tasks or 0, invites or 0


async def test_enrolment_makes_a_record_in_detention_with_the_checklist(runtime: Runtime) -> None:
    await _officer(runtime)
    pid = await _enrol(runtime, facility="PI Voorbeeld", officer_telegram_id=OFFICER)
    async with runtime.sessions() as session:
        participant = await session.get(Participant, pid)
        assert participant is not None
        assert (participant.status, participant.telegram_id) == ("in_detention", None)
        assert (participant.release_date, participant.facility) == (RELEASE, "PI Voorbeeld")
        shown = await plan.show(session, pid)
        audit = (await session.scalars(select(AuditEntry.action))).all()
    tasks = [task for goal in shown["goals"] for task in goal["tasks"]]
    assert {task["template"] for task in tasks} == {item.key for item in plan.CHECKLIST}
    assert all(task["status"] == "open" and task["due"] > "2027-01-15" for task in tasks)
    assert {goal["domain"] for goal in shown["goals"]} == {
        "housing",
        "work",
        "money",
        "care",
        "paperwork",
        "justice",
    }
    assert "participant_enrolled" in audit


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"release_date": date(2026, 12, 2)}, "before today"),
        ({"release_date": date(2999, 1, 1)}, "too far ahead"),
        ({"name": ""}, "empty"),
        ({"name": "   "}, "empty"),
        ({"name": "x" * 5_000_000}, "longer than"),
        ({"name": "Test\x00Deelnemer"}, "control character"),
        ({"name": "Test \u202eDeelnemer"}, "text-direction"),
        ({"name": "🙂🙂"}, None),  # no letters, but a name nonetheless: allowed
        ({"facility": "PI \u2067Voorbeeld"}, "text-direction"),
        ({"language": "xx"}, "unknown language"),
        ({"officer_telegram_id": 1234}, "no officer"),
    ],
)
async def test_bad_enrolment_changes_nothing(
    runtime: Runtime, changes: dict[str, Any], error: str | None
) -> None:
    if error is None:
        await _enrol(runtime, **changes)
        return
    with pytest.raises(enrolment.EnrolmentError, match=error):
        await _enrol(runtime, **changes)
    assert await _counts(runtime) == (0, 0, 0)


async def test_the_plan_takes_tasks_and_marks_them_done(runtime: Runtime) -> None:
    pid = await _enrol(runtime, checklist=False)
    now, zone = runtime.clock.now(), runtime.settings.tz
    async with runtime.sessions() as session, session.begin():
        partner = await partners.add(
            session,
            name="Schuldhulp Voorbeeld",
            domain="money",
            contact="Marloes",
            reach="010-0000000",
            now=now,
        )
        task = await plan.add_task(
            session,
            pid,
            domain="money",
            title="Schulden op een rij (Belastingdienst)",
            owner=f"partner:{partner.id}",
            due=date(2027, 2, 1),
            now=now,
            zone=zone,
        )
        task_id = task.id
    async with runtime.sessions() as session, session.begin():
        done, changed = await plan.set_status(session, task_id, TaskStatus.DONE, now=now)
        assert changed and done.done_at == now
        _again, changed = await plan.set_status(session, task_id, TaskStatus.DONE, now=now)
        assert not changed
    async with runtime.sessions() as session:
        shown = await plan.show(session, pid)
        raw = await session.scalar(
            select(func.count()).select_from(PlanTask).where(PlanTask.title.like("%Belasting%"))
        )
    [goal] = shown["goals"]
    assert goal["tasks"][0]["owner"] == f"partner:{partner.id}"
    assert goal["tasks"][0]["status"] == "done"
    assert raw == 0  # the title is encrypted at rest


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"due": date(2026, 12, 2)}, "in the past"),
        ({"domain": "holiday"}, "unknown domain"),
        ({"owner": "partner:999"}, "no partner"),
        ({"owner": "partner:"}, "unknown owner"),
        ({"owner": "mayor"}, "unknown owner"),
        ({"title": "x" * 5 * 1024 * 1024}, "longer than"),
        ({"title": ""}, "empty"),
        ({"title": "ID\x00kaart"}, "control character"),
        ({"title": "ID \u202ekaart"}, "text-direction"),
        ({"notes": "\u2066note"}, "text-direction"),
    ],
)
async def test_bad_tasks_change_nothing(
    runtime: Runtime, changes: dict[str, Any], error: str
) -> None:
    pid = await _enrol(runtime, checklist=False)
    values: dict[str, Any] = {
        "domain": "paperwork",
        "title": "ID-kaart aanvragen",
        "owner": "participant",
        "due": date(2027, 1, 20),
    }
    values.update(changes)
    async with runtime.sessions() as session, session.begin():
        with pytest.raises(plan.PlanError, match=error):
            await plan.add_task(
                session, pid, now=runtime.clock.now(), zone=runtime.settings.tz, **values
            )
    assert await _counts(runtime) == (1, 0, 0)


async def test_unknown_participant_and_task(runtime: Runtime) -> None:
    async with runtime.sessions() as session, session.begin():
        with pytest.raises(plan.PlanError, match="no participant"):
            await plan.show(session, 42)
        with pytest.raises(plan.PlanError, match="no plan task"):
            await plan.set_status(session, 42, TaskStatus.DONE, now=runtime.clock.now())


async def test_the_invite_links_the_chat_account_and_shows_the_first_week(
    runtime: Runtime,
) -> None:
    pid = await _enrol(runtime, language="en")
    release_morning = datetime(2027, 1, 15, 10, 0, tzinfo=runtime.settings.tz)
    async with runtime.sessions() as session, session.begin():
        await appointments.create(
            session,
            pid,
            at=release_morning + timedelta(days=2),
            with_org="Reclassering",
            location=None,
            note=None,
            offsets=[],
            now=runtime.clock.now(),
            zone=runtime.settings.tz,
        )
        await appointments.create(  # after the first week: not in the welcome
            session,
            pid,
            at=release_morning + timedelta(days=20),
            with_org="Later Org",
            location=None,
            note=None,
            offsets=[],
            now=runtime.clock.now(),
            zone=runtime.settings.tz,
        )
        first = await create_invite(
            session, now=runtime.clock.now(), valid_for=timedelta(days=60), participant_id=pid
        )
        invite = await create_invite(
            session, now=runtime.clock.now(), valid_for=timedelta(days=60), participant_id=pid
        )
    async with MemoryChannel(runtime) as channel:
        old = await channel.write(USER + 5, f"/start {first.code}")
        assert "verlopen" in old[0].text  # only the newest invite works
        said = await channel.write(USER, f"/start {invite.code}", name="Someone Else")
        assert "language" in said[-1].text
        said = await channel.press(USER, "English")
        said = await channel.press(USER, "Agree")
    texts = [s.text for s in said]
    assert "all set" in texts[0]
    welcome = texts[1]
    assert "first week" in welcome and "Reclassering" in welcome and "Later Org" not in welcome
    assert "Get a valid ID card" in welcome and "First appointment with probation" not in welcome
    async with runtime.sessions() as session:
        people = (await session.scalars(select(Participant))).all()
    assert [(p.id, p.status, p.name, p.address) for p in people] == [
        (pid, "active", "Test Deelnemer", str(USER))
    ]


async def test_an_invite_for_someone_signed_up_is_refused(runtime: Runtime) -> None:
    pid = await _enrol(runtime)
    async with runtime.sessions() as session, session.begin():
        invite = await create_invite(
            session, now=runtime.clock.now(), valid_for=timedelta(days=14), participant_id=pid
        )
    async with MemoryChannel(runtime) as channel:
        await channel.write(USER, f"/start {invite.code}")
    async with runtime.sessions() as session, session.begin():
        with pytest.raises(InviteError, match="already signed up"):
            await create_invite(
                session, now=runtime.clock.now(), valid_for=timedelta(days=14), participant_id=pid
            )
        with pytest.raises(InviteError, match="no participant"):
            await create_invite(
                session, now=runtime.clock.now(), valid_for=timedelta(days=14), participant_id=999
            )


async def _queued(rt: Runtime, kind: str) -> list[OutboxItem]:
    async with rt.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxItem).where(OutboxItem.kind == kind).order_by(OutboxItem.id)
                )
            ).all()
        )


async def test_release_day_reminds_the_officer_and_greets_the_participant(
    runtime: Runtime, clock: ManualClock
) -> None:
    await _officer(runtime)
    pid = await _enrol(runtime, officer_telegram_id=OFFICER, facility="PI Voorbeeld")
    zone = runtime.settings.tz
    async with runtime.sessions() as session, session.begin():
        invite = await create_invite(
            session, now=clock.now(), valid_for=timedelta(days=60), participant_id=pid
        )
    async with MemoryChannel(runtime) as channel:
        await channel.write(USER, f"/start {invite.code}")
        await channel.press(USER, "Nederlands")
        await channel.press(USER, "👍")
    clock.set(datetime(2027, 1, 14, 8, 59, tzinfo=zone))
    assert await scheduler.plan_days(runtime) == 0  # before nine: not yet
    clock.set(datetime(2027, 1, 14, 9, 0, tzinfo=zone))
    assert await scheduler.plan_days(runtime) == 1
    assert await scheduler.plan_days(runtime) == 0  # once
    [reminder] = await _queued(runtime, "alert")
    assert "Tomorrow Test Deelnemer is released from PI Voorbeeld" in reminder.payload["text"]
    assert reminder.chat_id == OFFICER
    clock.set(datetime(2027, 1, 15, 7, 59, tzinfo=zone))
    assert await scheduler.plan_days(runtime) == 0
    clock.set(datetime(2027, 1, 15, 8, 0, tzinfo=zone))
    assert await scheduler.plan_days(runtime) == 1
    assert await scheduler.plan_days(runtime) == 0
    greetings = await _queued(runtime, "prompt")
    assert "eerste dag" in greetings[-1].payload["text"]


async def test_no_greeting_for_someone_not_signed_up(runtime: Runtime, clock: ManualClock) -> None:
    await _enrol(runtime)
    clock.set(datetime(2027, 1, 15, 8, 30, tzinfo=runtime.settings.tz))
    assert await scheduler.plan_days(runtime) == 0  # nobody to remind, nowhere to greet
    async with runtime.sessions() as session:
        [participant] = (await session.scalars(select(Participant))).all()
    assert participant.release_greeted_at is None


async def test_export_and_erase_cover_the_plan(runtime: Runtime) -> None:
    pid = await _enrol(runtime, facility="PI Voorbeeld")
    async with runtime.sessions() as session, session.begin():
        document = await export.export_participant(session, pid)
        assert document is not None
        export.as_json_bytes(document)  # dates serialise
        assert document["participant"]["release_date"] == "2027-01-15"
        assert document["participant"]["facility"] == "PI Voorbeeld"
        assert len(document["plan"]) == len(plan.CHECKLIST)
        await privacy.erase(runtime.tx(session), pid, "cli", lambda _payload: None)
    async with runtime.sessions() as session:
        assert await plans_db.tasks_of(session, pid) == []
    assert await _counts(runtime) == (0, 0, 0)


async def _partner(rt: Runtime) -> int:
    async with rt.sessions() as session, session.begin():
        partner = await partners.add(
            session, name="Schuldhulp Voorbeeld", domain="money", contact=None, reach=None,
            now=rt.clock.now(),
        )  # fmt: skip
        return partner.id


async def test_a_referral_moves_forward_only(runtime: Runtime) -> None:
    pid = await _enrol(runtime, checklist=False)
    partner_id = await _partner(runtime)
    now, zone = runtime.clock.now(), runtime.settings.tz
    async with runtime.sessions() as session, session.begin():
        made = await referrals.add(session, pid, partner_id, now=now, zone=zone, note="Warm")
        referral_id = made.id
    async with runtime.sessions() as session, session.begin():
        await referrals.update(session, referral_id, ReferralStatus.ACCEPTED, now=now, zone=zone)
        await referrals.update(
            session, referral_id, ReferralStatus.FIRST_CONTACT, now=now, zone=zone
        )
        with pytest.raises(plan.PlanError, match="cannot become"):
            await referrals.update(session, referral_id, ReferralStatus.SENT, now=now, zone=zone)
        done = await referrals.update(
            session, referral_id, ReferralStatus.CLOSED, now=now, zone=zone, outcome="Regeling"
        )
        assert referrals.referral_dict(done)["ended_on"] == "2026-12-03"
        with pytest.raises(plan.PlanError, match="cannot become"):
            await referrals.update(
                session, referral_id, ReferralStatus.DECLINED, now=now, zone=zone
            )
    async with runtime.sessions() as session:
        document = await export.export_participant(session, pid)
    assert document is not None and document["referrals"][0]["outcome"] == "Regeling"


@pytest.mark.parametrize(
    ("partner", "participant", "changes", "error"),
    [
        (999, None, {}, "no partner"),
        (None, 999, {}, "no participant"),
        (None, None, {"sent_on": date(2026, 12, 4)}, "in the future"),
        (None, None, {"note": "x" * 5_000_000}, "longer than"),
        (None, None, {"note": "a\u202eb"}, "text-direction"),
    ],
)
async def test_bad_referrals_change_nothing(
    runtime: Runtime,
    partner: int | None,
    participant: int | None,
    changes: dict[str, Any],
    error: str,
) -> None:
    pid = await _enrol(runtime, checklist=False)
    partner_id = await _partner(runtime)
    async with runtime.sessions() as session, session.begin():
        with pytest.raises(plan.PlanError, match=error):
            await referrals.add(
                session,
                participant or pid,
                partner or partner_id,
                now=runtime.clock.now(),
                zone=runtime.settings.tz,
                **changes,
            )
    async with runtime.sessions() as session:
        assert await referrals.listed(session) == []


async def test_no_first_contact_after_ten_working_days_alerts_once(
    runtime: Runtime, clock: ManualClock
) -> None:
    await _officer(runtime)
    pid = await _enrol(runtime, officer_telegram_id=OFFICER, checklist=False)
    partner_id = await _partner(runtime)
    zone = runtime.settings.tz
    async with runtime.sessions() as session, session.begin():
        await referrals.add(  # Thursday 3 December
            session, pid, partner_id, now=clock.now(), zone=zone
        )
    clock.set(datetime(2026, 12, 16, 23, 0, tzinfo=zone))  # 9 working days later
    await scheduler.plan_days(runtime)
    clock.set(datetime(2026, 12, 17, 0, 30, tzinfo=zone))  # 10 working days later
    await scheduler.plan_days(runtime)
    await scheduler.plan_days(runtime)
    async with runtime.sessions() as session:
        kinds = (await session.scalars(select(Alert.kind))).all()
    assert kinds == ["referral_stale"]
    [alert] = await _queued(runtime, "alert")
    assert "No first contact" in alert.payload["text"] and "Schuldhulp" in alert.payload["text"]


def test_working_days_skip_weekends() -> None:
    assert referrals.workdays_before(date(2026, 12, 17), 10) == date(2026, 12, 3)
    assert referrals.workdays_before(date(2026, 12, 7), 1) == date(2026, 12, 4)


async def test_conditions_are_encrypted_exported_and_erased(runtime: Runtime) -> None:
    pid = await _enrol(runtime, checklist=False)
    async with runtime.sessions() as session, session.begin():
        await conditions.add(
            session, pid, kind="location_ban", text="Niet in de Voorbeeldstraat",
            now=runtime.clock.now(),
        )  # fmt: skip
    async with runtime.sessions() as session:
        raw = await session.scalar(
            select(func.count()).select_from(Condition).where(Condition.kind == "location_ban")
        )
        document = await export.export_participant(session, pid)
    assert raw == 0  # the kind is encrypted too
    assert (
        document is not None and document["conditions"][0]["text"] == "Niet in de Voorbeeldstraat"
    )
    async with runtime.sessions() as session, session.begin():
        await privacy.erase(runtime.tx(session), pid, "cli", lambda _payload: None)
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Condition)) == 0


async def test_a_task_button_works_only_for_its_own_participant(runtime: Runtime) -> None:
    """A signed button carries a task id; a participant who sends another's id (or an
    officer's task, or garbage) changes nothing."""
    owner = await _enrol(runtime)
    other = await _enrol(runtime, name="Kim Test")
    async with runtime.sessions() as session:
        tasks = await plans_db.tasks_of(session, owner)
    mine = next(t.id for t in tasks if t.owner == "participant")
    officers = next(t.id for t in tasks if t.owner == "officer")
    for who, token in ((other, str(mine)), (owner, str(officers)), (owner, "x1"), (owner, "")):
        async with runtime.sessions() as session, session.begin():
            person = await session.get(Participant, who)
            ctx = FlowContext(runtime.tx(session), participant=person)
            said = await plan_flow.choose(ctx, ChoiceId(plan.FLOW_ID, token, "done"))
        assert "al klaar of veranderd" in said[0].text
    async with runtime.sessions() as session:
        assert {t.status for t in await plans_db.tasks_of(session, owner)} == {"open"}
