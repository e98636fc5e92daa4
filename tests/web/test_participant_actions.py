"""The participant page's actions and content beyond the conversation: add an appointment
(the chat's rules; the participant is told), an invite link for someone enrolled in
detention, the export download (audited), the plan (tasks per domain, referrals,
conditions) with *Mark done*, photos fetched from the channel, and the timeline paged.
Every route: no session refused, another officer's participant 404, no CSRF 403."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from bot.services import conditions, enrolment, partners, plan, referrals
from db.models import Appointment, AuditEntry, Invite, PlanTask
from tests.clock import ManualClock
from tests.harness import Harness, running_harness
from tests.web.dashboard import browser, csrf_of, log_in, served
from tests.web.test_hostile_input import HUGE, NUL, RTL, SCRIPT


@pytest.fixture
async def h(database_url: str, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(database_url, clock) as running:
        yield running


async def _world(h: Harness) -> dict[str, Any]:
    """Olga with Sam (in the chat) and Eva (enrolled in detention); Piet with Kim."""
    olga, piet = h.user(first_name="Olga"), h.user(first_name="Piet")
    await h.add_staff(olga, name="Olga")
    await h.add_staff(piet, name="Piet")
    sam, kim = h.user(first_name="Sam"), h.user(first_name="Kim")
    sam_id = await h.register(sam, name="Sam Testpersoon", officer_telegram_id=olga.chat_id)
    kim_id = await h.register(kim, name="Kim Testpersoon", officer_telegram_id=piet.chat_id)
    async with h.runtime.sessions() as session, session.begin():
        eva = await enrolment.enrol(
            session,
            name="Eva Voorbeeld",
            release_date=h.clock.now().date() + timedelta(days=20),
            now=h.clock.now(),
            zone=h.runtime.settings.tz,
            default_language="nl",
            officer_telegram_id=olga.chat_id,
        )
        eva_id = eva.id
    return {"olga": olga.chat_id, "piet": piet.chat_id, "sam": sam, "sam_id": sam_id,
            "kim_id": kim_id, "eva_id": eva_id}  # fmt: skip


def _later(h: Harness, **delta: float) -> str:
    return (
        (h.clock.now() + timedelta(**delta))
        .astimezone(h.runtime.settings.tz)
        .strftime("%Y-%m-%dT%H:%M")
    )


def _routes(pid: int) -> list[tuple[str, str]]:
    base = f"/dashboard/participants/{pid}"
    return [
        ("POST", base + "/appointments"),
        ("POST", base + "/invite"),
        ("POST", base + "/export"),
        ("POST", base + "/tasks/1/done"),
        ("GET", base + "/media/1"),
    ]


async def _audit(h: Harness, telegram_id: int) -> list[tuple[str, int | None]]:
    async with h.runtime.sessions() as session:
        rows = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.actor_telegram_id == telegram_id)
            )
        ).all()
    return [(row.action, row.participant_id) for row in rows]


async def test_every_new_route_keeps_the_access_rules(h: Harness) -> None:
    w = await _world(h)
    async with served(h) as base, browser() as client:
        for method, path in _routes(w["sam_id"]):
            async with client.request(method, base + path, allow_redirects=False) as answer:
                assert answer.status in (303, 401), path  # no session
        await log_in(client, base, h, w["olga"])
        csrf = await csrf_of(client, f"{base}/dashboard/participants/{w['sam_id']}")
        for method, path in _routes(w["kim_id"]):  # Piet's participant
            async with client.request(method, base + path, data={"csrf": csrf}) as answer:
                assert answer.status == 404, path
                assert "Kim" not in await answer.text()
        for method, path in _routes(w["sam_id"]):
            if method == "POST":
                async with client.post(base + path, data={"csrf": "0" * 64}) as answer:
                    assert answer.status == 403, path
                async with client.post(base + path, data={}) as answer:
                    assert answer.status == 403, path
    async with h.runtime.sessions() as session:
        assert (await session.scalars(select(Appointment))).all() == []


async def test_add_an_appointment_tells_the_participant(h: Harness) -> None:
    w = await _world(h)
    url = f"/dashboard/participants/{w['sam_id']}"
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, w["olga"])
        csrf = await csrf_of(client, base + url)
        form = {"csrf": csrf, "at": _later(h, days=3), "with_org": "Reclassering",
                "location": "Stationsplein 1", "note": "Neem je ID mee."}  # fmt: skip
        async with client.post(base + url + "/appointments", data=form) as answer:
            assert answer.status == 200 and answer.url.path == url
            assert "Reclassering" in await answer.text()
    await h.pump()
    assert any("Reclassering" in text for text in w["sam"].replies())
    async with h.runtime.sessions() as session:
        (made,) = (await session.scalars(select(Appointment))).all()
    assert (made.with_org, made.location, made.note) == (
        "Reclassering", "Stationsplein 1", "Neem je ID mee."
    )  # fmt: skip
    assert ("web_appointment", w["sam_id"]) in await _audit(h, w["olga"])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"at": "", "with_org": "Gemeente"}, "Choose a date and time."),
        ({"at": "morgen", "with_org": "Gemeente"}, "Choose a date and time."),
        ({"at": "PAST", "with_org": "Gemeente"}, "That moment has passed."),
        ({"at": "FAR", "with_org": "Gemeente"}, "more than two years ahead"),
        ({"with_org": ""}, "short name of the organisation"),
        ({"with_org": " \u200b "}, "short name of the organisation"),
        ({"with_org": HUGE}, "short name of the organisation"),
        ({"with_org": "Gemeente", "location": "x" * 501}, "That address is too long."),
        ({"with_org": "Gemeente", "note": "x" * 501}, "The note is too long"),
    ],
)
async def test_appointment_refusals(h: Harness, values: dict[str, str], message: str) -> None:
    w = await _world(h)
    url = f"/dashboard/participants/{w['sam_id']}"
    moments = {"PAST": _later(h, hours=-1), "FAR": _later(h, days=800)}
    form = {"at": _later(h, days=1), **values}
    form["at"] = moments.get(form["at"], form["at"])
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, w["olga"])
        form["csrf"] = await csrf_of(client, base + url)
        async with client.post(base + url + "/appointments", data=form) as answer:
            assert answer.status == 400
            page = await answer.text()
    assert message in page and len(page) < 200_000
    async with h.runtime.sessions() as session:
        assert (await session.scalars(select(Appointment))).all() == []


async def test_hostile_appointment_text_is_stored_and_shown_escaped(h: Harness) -> None:
    w = await _world(h)
    url = f"/dashboard/participants/{w['sam_id']}"
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, w["olga"])
        csrf = await csrf_of(client, base + url)
        form = {"csrf": csrf, "at": _later(h, days=2), "with_org": SCRIPT[:200],
                "location": RTL, "note": NUL}  # fmt: skip
        async with client.post(base + url + "/appointments", data=form) as answer:
            page = await answer.text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    async with h.runtime.sessions() as session:
        (made,) = (await session.scalars(select(Appointment))).all()
    assert made.with_org == SCRIPT[:200] and made.location == RTL and made.note == "voorna"


async def test_invite_only_for_someone_not_in_the_chat(h: Harness) -> None:
    w = await _world(h)
    eva = f"/dashboard/participants/{w['eva_id']}"
    sam = f"/dashboard/participants/{w['sam_id']}"
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, w["olga"])
        async with client.get(base + sam) as page:
            assert "/invite" not in await page.text()
        csrf = await csrf_of(client, base + eva)
        async with client.post(base + eva + "/invite", data={"csrf": csrf}) as answer:
            assert answer.status == 200
            page = await answer.text()
        assert "https://t.me/" in page and "?start=" in page
        async with client.post(base + sam + "/invite", data={"csrf": csrf}) as answer:
            assert answer.status == 409
    async with h.runtime.sessions() as session:
        invites = (
            await session.scalars(select(Invite).where(Invite.participant_id == w["eva_id"]))
        ).all()
    assert len(invites) == 1
    assert ("web_invite", w["eva_id"]) in await _audit(h, w["olga"])


async def test_export_downloads_the_record_and_is_audited(h: Harness) -> None:
    w = await _world(h)
    w["sam"].send("Hallo, dit is mijn bericht.")
    await h.pump()
    url = f"/dashboard/participants/{w['sam_id']}"
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, w["olga"])
        csrf = await csrf_of(client, base + url)
        async with client.post(base + url + "/export", data={"csrf": csrf}) as answer:
            assert answer.status == 200
            assert "attachment" in answer.headers["Content-Disposition"]
            document = json.loads(await answer.read())
    assert document["participant"]["name"] == "Sam Testpersoon"
    assert any("mijn bericht" in str(m.get("text")) for m in document["messages"])
    assert ("export", w["sam_id"]) in await _audit(h, w["olga"])


async def test_the_plan_is_shown_and_a_task_marked_done(h: Harness) -> None:
    w = await _world(h)
    now, zone = h.clock.now(), h.runtime.settings.tz
    async with h.runtime.sessions() as session, session.begin():
        task = await plan.add_task(
            session, w["sam_id"], domain="housing", title="Bel de woningcorporatie " + SCRIPT,
            owner="participant", due=now.date() + timedelta(days=5), now=now, zone=zone,
        )  # fmt: skip
        task_id = task.id
        partner = await partners.add(
            session, name="Schuldhulp Voorbeeld", domain="money", contact=None, reach=None, now=now
        )
        await referrals.add(session, w["sam_id"], partner.id, now=now, zone=zone)
        await conditions.add(
            session, w["sam_id"], kind="reporting_duty", text="Elke maandag melden",
            now=now, ends_on=date(2027, 6, 1),
        )  # fmt: skip
    url = f"/dashboard/participants/{w['sam_id']}"
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, w["olga"])
        async with client.get(base + url) as answer:
            page = await answer.text()
        for shown in ("Bel de woningcorporatie", "Schuldhulp Voorbeeld", "Elke maandag melden",
                      "Reporting duty", "to do", f"/tasks/{task_id}/done"):  # fmt: skip
            assert shown in page, shown
        assert "<script>alert" not in page
        csrf = await csrf_of(client, base + url)
        async with client.post(f"{base}{url}/tasks/{task_id}/done", data={"csrf": csrf}) as done:
            assert done.status == 200
            assert f"/tasks/{task_id}/done" not in await done.text()
        async with client.post(f"{base}{url}/tasks/999999/done", data={"csrf": csrf}) as other:
            assert other.status == 404
    async with h.runtime.sessions() as session:
        stored = await session.get(PlanTask, task_id)
        assert stored is not None and stored.status == "done"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 40)).save(buffer, "PNG")
    return buffer.getvalue()


async def test_a_photo_is_shown_through_the_channel(h: Harness) -> None:
    w = await _world(h)
    png = _png()
    photo = h.api.upload(png, "photo", "image/png", width=32, height=24)
    w["sam"]._send_content({"photo": [photo]})
    w["sam"].send_voice()
    await h.pump()
    url = f"/dashboard/participants/{w['sam_id']}"
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, w["olga"])
        async with client.get(base + url) as answer:
            page = await answer.text()
        start = page.index('<img class="photo" src="') + len('<img class="photo" src="')
        source = page[start : page.index('"', start)]
        assert source.startswith(url + "/media/")
        async with client.get(base + source) as image:
            assert image.status == 200 and image.content_type == "image/png"
            assert await image.read() == png
        assert "Download: voice message" in page
    async with (
        served(h) as base,
        browser() as stranger,
        stranger.get(base + source, allow_redirects=False) as image,
    ):
        assert image.status == 303


async def test_the_timeline_is_paged(h: Harness) -> None:
    w = await _world(h)
    for number in range(60):
        w["sam"].send(f"bericht nummer {number:02d}")
    await h.pump()
    url = f"/dashboard/participants/{w['sam_id']}"
    async with served(h) as base, browser() as client:
        await log_in(client, base, h, w["olga"])
        async with client.get(base + url) as answer:
            newest = await answer.text()
        assert "bericht nummer 59" in newest and "bericht nummer 00" not in newest
        start = newest.index(url + "?before=")
        older_url = newest[start : newest.index('"', start)].split("#")[0]
        async with client.get(base + older_url) as answer:
            older = await answer.text()
        assert "bericht nummer 00" in older and "bericht nummer 59" not in older
        assert "Back to the newest messages" in older
        async with client.get(base + url + "?before=garbage" + SCRIPT) as answer:
            assert answer.status == 200
