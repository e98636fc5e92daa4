"""Prefetched staff and participants answer like a query would, within the transaction."""

from __future__ import annotations

from bot.runtime import Runtime
from db import flow_states, people
from db.flow_states import Owner
from db.models import Participant, Staff

PERSON, NEWCOMER, OFFICER = 5_300_001, 5_300_002, 5_300_003


async def _seed(runtime: Runtime) -> None:
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        session.add(
            Participant(
                telegram_id=PERSON,
                name="Deelnemer A",
                language="nl",
                status="active",
                created_at=now,
            )
        )
        session.add(
            Staff(
                telegram_id=OFFICER,
                role="officer",
                name="Officer B",
                is_backup=False,
                language="nl",
                active=True,
                reachable=True,
                unreachable_notice_sent=False,
                created_at=now,
            )
        )


async def test_prefetched_people_follow_changes_in_the_same_transaction(runtime: Runtime) -> None:
    await _seed(runtime)
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        await people.prefetch(session, [PERSON, NEWCOMER, OFFICER])
        person = await people.participant_by_telegram_id(session, PERSON)
        assert person is not None and person.name == "Deelnemer A"
        assert await people.staff_by_telegram_id(session, PERSON) is None
        officer = await people.staff_by_telegram_id(session, OFFICER)
        assert officer is not None and officer.name == "Officer B"
        assert await people.participant_by_telegram_id(session, NEWCOMER) is None

        # an earlier update of the same transaction registered the newcomer
        session.add(
            Participant(
                telegram_id=NEWCOMER,
                name="Nieuw",
                language="en",
                status="registering",
                created_at=now,
            )
        )
        await session.flush()
        newcomer = await people.participant_by_telegram_id(session, NEWCOMER)
        assert newcomer is not None and newcomer.name == "Nieuw"

        # an erasure clears the Telegram id; a deleted row is gone
        person.telegram_id = None
        assert await people.participant_by_telegram_id(session, PERSON) is None
        await session.delete(newcomer)
        await session.flush()
        assert await people.participant_by_telegram_id(session, NEWCOMER) is None

        officer.active = False  # removed: no longer staff, whatever was prefetched
        assert await people.staff_by_telegram_id(session, OFFICER) is None


async def test_without_prefetch_the_lookups_query(runtime: Runtime) -> None:
    await _seed(runtime)
    async with runtime.sessions() as session:
        person = await people.participant_by_telegram_id(session, PERSON)
        assert person is not None
        assert await people.staff_by_telegram_id(session, OFFICER) is not None
        assert await people.staff_by_telegram_id(session, PERSON) is None


async def test_prefetched_flow_states_follow_saves_and_clears(runtime: Runtime) -> None:
    await _seed(runtime)
    now = runtime.clock.now()
    async with runtime.sessions() as session:
        person = await people.participant_by_telegram_id(session, PERSON)
        officer = await people.staff_by_telegram_id(session, OFFICER)
        assert person is not None and officer is not None
    participant, staff = Owner(participant_id=person.id), Owner(staff_id=officer.id)
    async with runtime.sessions() as session, session.begin():
        await flow_states.save(session, participant, "checkin", "mood", "t1", {}, now)
    async with runtime.sessions() as session, session.begin():
        await flow_states.prefetch(session, [participant, staff])
        state = await flow_states.get(session, participant)
        assert state is not None and state.step == "mood"
        assert await flow_states.get(session, staff) is None
        await flow_states.save(session, staff, "help", "domain", "t2", {}, now)
        started = await flow_states.get(session, staff)
        assert started is not None and started.flow == "help"
        await flow_states.clear(session, participant)
        assert await flow_states.get(session, participant) is None
        await flow_states.save(session, participant, "language", "pick", "t3", {}, now)
        again = await flow_states.get(session, participant)
        assert again is not None and again.flow == "language"
    async with runtime.sessions() as session:
        stored = {owner: await flow_states.get(session, owner) for owner in (participant, staff)}
        assert {key: value.flow for key, value in stored.items() if value} == {
            participant: "language",
            staff: "help",
        }
