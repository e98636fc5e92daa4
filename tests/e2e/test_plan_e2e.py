"""End to end with the real processes: enrol before release, prepare the plan and an
appointment, print the invite letter (its QR code decodes to the link), sign up with that
link, see the first week and the plan, tick a task off with *Done*, and the officer and
`oprit plan show` see it; then a referral with a warm introduction and a weekly reporting
duty reach the participant, and the officer's /tasks and `oprit plan due` list what is due.
The time-driven part of the year (reminders, overdue alerts, attendance, the weekly
overview) runs on a manual clock in test_plan_year_e2e.py."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pypdfium2
import zxingcpp

from bot.localtelegram import LocalTelegram
from tests.clock import officer_today
from tests.e2e.botprocess import bot_env, oprit_json, running_bot
from tests.e2e.conversation import TelegramUser

OFFICER = 7_300_900


def test_from_prison_to_the_plan(api: LocalTelegram, tmp_path: Path) -> None:
    env = bot_env(api.base_url, tmp_path)
    api.open_chat(OFFICER, "Officer")
    oprit_json(
        env, tmp_path, "staff", "add", "--telegram-id", str(OFFICER), "--role", "officer",
        "--name", "Officer Test",
    )  # fmt: skip
    release = officer_today() + timedelta(days=1)
    enrolled = oprit_json(
        env, tmp_path, "participants", "enrol", "--name", "Test Deelnemer",
        "--release-date", release.isoformat(), "--facility", "PI Voorbeeld",
        "--officer", str(OFFICER), "--language", "en",
    )  # fmt: skip
    pid = str(enrolled["id"])
    oprit_json(
        env, tmp_path, "plan", "task", "add", "--participant", pid, "--domain", "housing",
        "--title", "Bel de woningcorporatie", "--owner", "participant",
        "--due", (release + timedelta(days=2)).isoformat(),
    )  # fmt: skip
    oprit_json(
        env, tmp_path, "appointment", "add", "--participant", pid,
        "--at", f"{(release + timedelta(days=1)).isoformat()}T10:00", "--with", "Reclassering",
    )  # fmt: skip
    letter = tmp_path / "letter.pdf"
    made = oprit_json(env, tmp_path, "invite", "letter", "--participant", pid, "--out", str(letter))
    document = pypdfium2.PdfDocument(letter.read_bytes())
    image = document[0].render(scale=2).to_pil()
    document.close()
    [code] = [found.text for found in zxingcpp.read_barcodes(image)]
    assert code == made["link"] and "?start=" in code

    with running_bot(env, tmp_path):
        sam = TelegramUser(api, 7_300_001, language_code="nl")
        sam.send(f"/start {code.split('?start=')[1]}")
        sam.wait_reply(containing="language", timeout=60)  # the bot may still be starting
        sam.press("English")
        sam.wait_reply(containing="agree")
        sam.press("Agree")
        welcome = sam.wait_reply(containing="first week")
        assert "Reclassering" in welcome and "Bel de woningcorporatie" in welcome

        sam.send("📋 My plan")
        sam.wait_reply(containing="Bel de woningcorporatie")
        sam.press("Done")
        sam.wait_reply(containing="marked it as done")

        officer = TelegramUser(api, OFFICER)
        officer.send("/plan Test Deelnemer")
        shown = officer.wait_reply(containing="Plan van Test Deelnemer")  # staff read Dutch
        [line] = [row for row in shown.splitlines() if "woningcorporatie" in row]
        assert line.endswith("klaar")

        partner = oprit_json(
            env, tmp_path, "partner", "add", "--name", "Schuldhulp Voorbeeld", "--domain",
            "money", "--contact", "Marloes",
        )  # fmt: skip
        oprit_json(
            env, tmp_path, "referral", "add", "--participant", pid, "--partner",
            str(partner["id"]), "--introduce",
        )  # fmt: skip
        sam.wait_reply(containing="Marloes from Schuldhulp Voorbeeld will contact you")
        duty = oprit_json(
            env, tmp_path, "condition", "add", "--participant", pid, "--kind", "reporting_duty",
            "--text", "Wekelijks melden", "--weekday", "tue", "--time", "10:00",
            "--report-to", "Reclassering", "--place", "Spoorstraat 1",
            "--from", (release + timedelta(days=1)).isoformat(),
        )  # fmt: skip
        assert len(duty["appointments"]) >= 50  # weekly until a year after the release
        told = sam.wait_reply(containing="every week")
        assert "Spoorstraat 1" in told and "melden" not in told.lower()
        officer.send("/tasks")
        due_list = officer.wait_reply(containing="Schuldhulp Voorbeeld")
        assert "Test Deelnemer" in due_list

    due = oprit_json(env, tmp_path, "plan", "due", "--officer", str(OFFICER))
    assert [r["partner_name"] for r in due["referrals_waiting"]] == ["Schuldhulp Voorbeeld"]

    plan = oprit_json(env, tmp_path, "plan", "show", "--participant", pid)
    statuses = {t["title"]: t["status"] for g in plan["goals"] for t in g["tasks"]}
    assert sum(status == "done" for status in statuses.values()) == 1
    assert plan["status"] == "active"
    exported = oprit_json(env, tmp_path, "export", "--participant", pid)
    assert exported["participant"]["facility"] == "PI Voorbeeld" and len(exported["plan"]) == 9
