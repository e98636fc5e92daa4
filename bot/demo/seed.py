"""Invented demo data, made the way real data is made: staff through the admin service,
participants through invites and the real sign-up buttons, messages, a help request, a
photo, a voice note and a crisis through their phones, appointments through the service the
CLI uses. Only the two weeks of earlier check-ins are written straight into the database
(they lie in the past, before the demo began). Every name is made up."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from importlib import resources

from bot.demo.world import COORDINATOR_ID, GROUP_ID, OFFICER_ID, DemoChat, DemoWorld
from bot.localtelegram import JsonDict
from bot.runtime import Runtime
from bot.services import admin, appointments
from db import people
from db.enums import CheckinStatus
from db.models import Checkin, HelpRequest

log = logging.getLogger(__name__)

DOMAINS = ("housing", "work", "money", "care", "paperwork")


@dataclass(frozen=True)
class Invented:
    """A made-up participant: name, language and how their two weeks went."""

    name: str
    language: str
    moods: tuple[str, ...]  # oldest first; "" is a missed check-in
    worry: str  # the life domain that troubles them


PARTICIPANTS = (
    Invented("Jordy Vermeulen", "nl", ("okay", "good", "good", "good"), "housing"),
    Invented("Sam Whitfield", "en", ("okay", "bad", "", "bad"), "care"),
    Invented("Yusuf Haddad", "ar", ("good", "okay", "good", "okay"), "paperwork"),
    Invented("Emre Aydın", "tr", ("okay", "", "okay", "bad"), "money"),
    Invented("Kasia Nowak", "pl", ("good", "good", "okay", "good"), "work"),
)


def sample(name: str) -> bytes:
    """A sample file shipped with the demo (a photo, a voice note)."""
    return resources.files("bot.demo").joinpath("static", name).read_bytes()


async def seed(world: DemoWorld) -> None:
    """Everything the page shows when it opens."""
    runtime = world.bot_runtime()
    now = runtime.clock.now()
    world.add_group()
    officer = world.add_person("Mira Oosterhout", "officer", "nl", OFFICER_ID)
    world.add_person("Ruben Kalkman", "coordinator", "nl", COORDINATOR_ID)
    async with runtime.sessions() as session, session.begin():
        for chat_id, role, name in (
            (OFFICER_ID, "officer", "Mira Oosterhout"),
            (COORDINATOR_ID, "coordinator", "Ruben Kalkman"),
        ):
            staff = await admin.add_staff(
                session,
                telegram_id=chat_id,
                role=role,
                name=name,
                backup=False,
                language="nl",
                now=now,
            )
            staff.reachable = True
    chats = []
    for person in PARTICIPANTS:
        chat = world.add_person(person.name, "participant", person.language)
        await world.register(chat, person.name, person.language)
        chats.append(chat)
    await _history(runtime, chats)
    await _appointments(runtime, chats)
    await _conversations(world, chats, officer)
    log.info("demo seeded", extra={"participants": len(chats)})


async def _history(runtime: Runtime, chats: list[DemoChat]) -> None:
    """Two weeks of check-ins (Mondays and Thursdays), a resolved help request."""
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        for index, (chat, person) in enumerate(zip(chats, PARTICIPANTS, strict=True)):
            participant = await people.participant_by_telegram_id(session, chat.id)
            assert participant is not None
            participant.created_at = now - timedelta(days=15)
            missed = 0
            for number, mood in enumerate(person.moods):
                # the prompts of the last two weeks (10:00), answered a little later
                prompted = _local_day(runtime, -14 + number * 4, time(10, 0))
                checkin = Checkin(
                    participant_id=participant.id,
                    token=f"seed{number}",
                    prompted_at=prompted,
                    created_at=prompted,
                    answers={},
                )
                if mood:
                    checkin.status, checkin.step = CheckinStatus.COMPLETED, "done"
                    checkin.mood = mood
                    worried = "problem" if mood == "bad" else "worried"
                    checkin.answers = {d: worried if d == person.worry else "fine" for d in DOMAINS}
                    checkin.completed_at = prompted + timedelta(minutes=12 + 17 * index)
                    participant.last_checkin_at = checkin.completed_at
                    missed = 0
                else:
                    checkin.status = CheckinStatus.MISSED
                    missed += 1
                session.add(checkin)
            participant.missed_checkins = missed
        first = await people.participant_by_telegram_id(session, chats[0].id)
        assert first is not None
        session.add(
            HelpRequest(
                participant_id=first.id,
                domain="paperwork",
                text="Ik moet een nieuwe ID-kaart aanvragen.",
                status="resolved",
                created_at=now - timedelta(days=9),
                acknowledged_at=now - timedelta(days=9),
                resolved_at=now - timedelta(days=6),
            )
        )


def _local_day(runtime: Runtime, days: int, at: time) -> datetime:
    """`at` local time, `days` days from the demo's today, in UTC."""
    zone = runtime.settings.tz
    today = runtime.clock.now().astimezone(zone).date()
    return datetime.combine(today + timedelta(days=days), at, zone).astimezone(UTC)


async def _appointments(runtime: Runtime, chats: list[DemoChat]) -> None:
    """Appointments planned by the officer, told to the participants by the bot."""
    plans = (
        (0, 1, time(14, 0), "Woningcorporatie Stadswonen", "Stationsplein 4"),
        (2, 2, time(10, 30), "Gemeente, loket Burgerzaken", "Stadhuis, balie 3"),
        (3, 3, time(9, 15), "Schuldhulp Maatwerk", "Kerkstraat 12"),
        (4, 6, time(13, 0), "Uitzendbureau Werkpunt", None),
    )
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        for index, days, at, with_org, location in plans:
            participant = await people.participant_by_telegram_id(session, chats[index].id)
            assert participant is not None
            made = await appointments.create(
                session,
                participant.id,
                at=_local_day(runtime, days, at),
                with_org=with_org,
                location=location,
                note=None,
                offsets=runtime.settings.reminder_offsets,
                now=now,
                zone=runtime.settings.tz,
            )
            await appointments.tell_participant(
                session,
                made.appointment,
                appointments.Change.PLANNED,
                zone=runtime.settings.tz,
                now=now,
            )
    runtime.wake_outbox()


async def _conversations(world: DemoWorld, chats: list[DemoChat], officer: DemoChat) -> None:
    """What the participants wrote today, and the officer's answer in the forum group."""
    jordy, sam, yusuf, emre, kasia = chats
    assert jordy.user and sam.user and yusuf.user and emre.user and kasia.user and officer.user
    before = world.api.last_message_id(GROUP_ID)
    jordy.user.write(jordy.id, "Hoi! Ik heb vandaag de sleutel van mijn kamer gekregen 🎉")
    copied = await world.wait_for(
        lambda: _newest_copy(world, "sleutel", before), "the copy in the officers' group"
    )
    officer.user.write(
        GROUP_ID,
        "Wat goed, Jordy! Morgen bespreken we de huurtoeslag.",
        reply_to=copied["message_id"],
        thread_id=copied.get("message_thread_id"),
    )
    relayed = await world.wait_for(
        lambda: next(
            (m for m in world.api.bot_messages(jordy.id) if "huurtoeslag" in m.get("text", "")),
            None,
        ),
        "the officer's answer on Jordy's phone",
    )
    jordy.user.react(jordy.id, relayed["message_id"], "🙏")
    yusuf.user.write(yusuf.id, "مرحبا، هل يمكنك مساعدتي في رسالة من البلدية؟")
    start = emre.user.write(emre.id, "/request")["message_id"]
    await world.press(emre.id, ":domain.money:", start)
    emre.user.write(emre.id, "Vergi dairesinden bir mektup aldım ve anlamıyorum. Borcum var mı?")
    await world.press(emre.id, ":send:", start)
    kasia.user.send_photo(kasia.id, sample("sample-photo.jpg"), "Mój nowy dowód osobisty 🎉")
    kasia.user.send_voice(kasia.id, sample("sample-voice.wav"), 2, "audio/wav")
    sam.user.write(sam.id, "I can't do this anymore. I want to end my life.")
    coordinator = world.chats[COORDINATOR_ID].user
    assert coordinator is not None
    await world.wait_for(lambda: world.api.bot_messages(OFFICER_ID), "the alert of the crisis")
    coordinator.write(COORDINATOR_ID, "/participants")


def _newest_copy(world: DemoWorld, needle: str, after: int) -> JsonDict | None:
    for message in reversed(world.api.bot_messages(GROUP_ID)):
        if message["message_id"] > after and needle in str(message.get("text", "")):
            return message
    return None
