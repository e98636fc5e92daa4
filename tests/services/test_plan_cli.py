"""`oprit participants enrol`, `oprit invite create --participant`, `oprit plan ...` and
`oprit partner ...` with --json, run in-process against SQLite and PostgreSQL: one JSON
document on success; one sentence on stderr, a non-zero exit and no change on bad input."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import open_runtime
from bot.cli import main
from db import state
from tests.clock import officer_today
from tests.conftest import TEST_KEY, make_settings

FUTURE = (officer_today() + timedelta(days=60)).isoformat()


@pytest.fixture
def cli(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """Runs `oprit ARGS --json`; returns (exit code, parsed stdout or None, stderr)."""
    monkeypatch.setenv("OPRIT_DATABASE_URL", database_url)
    monkeypatch.setenv("OPRIT_ENCRYPTION_KEY", TEST_KEY)

    async def name_the_bot() -> None:
        runtime = await open_runtime(make_settings(database_url=database_url))
        async with runtime.sessions() as session, session.begin():
            await state.put(session, "bot_username", "oprit_test_bot", runtime.clock.now())
        await runtime.engine.dispose()

    asyncio.run(name_the_bot())

    def run(*args: str) -> tuple[int, Any, str]:
        code = main([*args, "--json"])
        captured = capsys.readouterr()
        return code, json.loads(captured.out) if captured.out.strip() else None, captured.err

    return run


def _enrol(cli: Any, *extra: str) -> tuple[int, Any, str]:
    return cli(
        "participants", "enrol", "--name", "Test Deelnemer", "--release-date", FUTURE, *extra
    )


def test_enrol_invite_and_plan(cli: Any) -> None:
    code, enrolled, _err = _enrol(cli, "--facility", "PI Voorbeeld", "--language", "tr")
    assert code == 0 and enrolled["status"] == "in_detention" and enrolled["language"] == "tr"
    pid = str(enrolled["id"])
    code, invite, _err = cli("invite", "create", "--participant", pid)
    assert code == 0 and invite["link"].startswith("https://t.me/oprit_test_bot?start=")
    assert invite["participant"] == enrolled["id"]
    code, partner, _err = cli(
        "partner", "add", "--name", "Schuldhulp Voorbeeld", "--domain", "money"
    )
    assert code == 0
    code, task, _err = cli(
        "plan", "task", "add", "--participant", pid, "--domain", "money",
        "--title", "Schulden op een rij", "--owner", f"partner:{partner['id']}", "--due", FUTURE,
    )  # fmt: skip
    assert code == 0 and task["status"] == "open" and task["owner"] == f"partner:{partner['id']}"
    code, done, _err = cli("plan", "task", "done", str(task["id"]))
    assert code == 0 and done["status"] == "done" and done["changed"] is True
    code, shown, _err = cli("plan", "show", "--participant", pid)
    assert code == 0
    statuses = {t["id"]: t["status"] for goal in shown["goals"] for t in goal["tasks"]}
    assert statuses[task["id"]] == "done" and len(statuses) == 9  # the checklist and one more
    [listed_person] = cli("participants", "list")[1]
    assert (listed_person["id"], listed_person["status"]) == (enrolled["id"], "in_detention")
    code, listed, _err = cli("partner", "list")
    assert [p["name"] for p in listed] == ["Schuldhulp Voorbeeld"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--release-date", "2020-01-01"), "before today"),
        (("--release-date", "15-01-2027"), "not a date"),
        (("--release-date", ""), "not a date"),
        (("--name", "x" * 5_000_000), "longer than"),
        (("--name", ""), "empty"),
        (("--name", "Test \u202eDeelnemer"), "text-direction"),
        (("--language", "xx"), "unknown language"),
        (("--officer", "99"), "no officer"),
    ],
)
def test_bad_enrolment(cli: Any, args: tuple[str, ...], error: str) -> None:
    values = {"--name": "Test Deelnemer", "--release-date": FUTURE}
    values.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [item for pair in values.items() for item in pair]
    code, data, err = cli("participants", "enrol", *flat)
    assert code != 0 and data is None and error in err and "Traceback" not in err
    assert cli("participants", "list")[1] == []


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--due", "2020-01-01"), "in the past"),
        (("--owner", "partner:77"), "no partner"),
        (("--domain", "holidays"), "unknown domain"),
        (("--title", "t" * 5 * 1024 * 1024), "longer than"),
        (("--title", " "), "empty"),
        (("--title", "ID\u202e"), "text-direction"),
        (("--participant", "999"), "no participant"),
    ],
)
def test_bad_task(cli: Any, args: tuple[str, ...], error: str) -> None:
    pid = str(_enrol(cli, "--no-checklist")[1]["id"])
    values = {
        "--participant": pid,
        "--domain": "paperwork",
        "--title": "ID-kaart",
        "--owner": "participant",
        "--due": FUTURE,
    }
    values.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [item for pair in values.items() for item in pair]
    code, data, err = cli("plan", "task", "add", *flat)
    assert code != 0 and data is None and error in err and "Traceback" not in err
    assert cli("plan", "show", "--participant", pid)[1]["goals"] == []


def test_invite_for_an_unknown_or_mixed_participant(cli: Any) -> None:
    code, _data, err = cli("invite", "create", "--participant", "999")
    assert code != 0 and "no participant" in err
    pid = str(_enrol(cli)[1]["id"])
    code, _data, err = cli("invite", "create", "--participant", pid, "--name", "Other")
    assert code != 0 and "leave out --name" in err
    code, _data, err = cli("plan", "task", "done", "999")
    assert code != 0 and "no plan task" in err


def test_attendance_from_the_command_line(cli: Any) -> None:
    pid = str(_enrol(cli, "--no-checklist")[1]["id"])
    code, planned, _err = cli(
        "appointment",
        "add",
        "--participant",
        pid,
        "--at",
        f"{FUTURE}T10:00",
        "--with",
        "Reclassering",
    )
    assert code == 0
    code, _data, err = cli("appointment", "attended", str(planned["id"]), "--outcome", "attended")
    assert code != 0 and "not happened yet" in err
    code, _data, err = cli("appointment", "attended", str(planned["id"]), "--outcome", "maybe")
    assert code != 0 and "unknown outcome" in err
    code, _data, err = cli("appointment", "attended", "999", "--outcome", "no-show")
    assert code != 0 and "no planned appointment" in err


def test_referrals_from_the_command_line(cli: Any) -> None:
    pid = str(_enrol(cli, "--no-checklist")[1]["id"])
    partner = cli("partner", "add", "--name", "Woningcorporatie Voorbeeld", "--domain", "housing")[
        1
    ]
    code, made, _err = cli(
        "referral", "add", "--participant", pid, "--partner", str(partner["id"]), "--note", "Warm"
    )
    assert code == 0 and made["status"] == "sent"
    assert [r["id"] for r in cli("referral", "list", "--waiting")[1]] == [made["id"]]
    code, moved, _err = cli("referral", "update", str(made["id"]), "--status", "first-contact")
    assert code == 0 and moved["status"] == "first_contact" and moved["first_contact_on"]
    assert cli("referral", "list", "--waiting")[1] == []
    code, _data, err = cli("referral", "update", str(made["id"]), "--status", "accepted")
    assert code != 0 and "cannot become" in err
    code, _data, err = cli("referral", "update", str(made["id"]), "--status", "lost")
    assert code != 0 and "unknown status" in err
    code, _data, err = cli("referral", "add", "--participant", pid, "--partner", "999")
    assert code != 0 and "no partner" in err
    code, _data, err = cli("partner", "add", "--name", "", "--domain", "housing")
    assert code != 0 and "empty" in err
    assert len(cli("referral", "list", "--participant", pid)[1]) == 1
    assert len(cli("partner", "list")[1]) == 1


def test_a_task_can_be_changed_and_bad_changes_change_nothing(cli: Any) -> None:
    pid = str(_enrol(cli)[1]["id"])
    shown = cli("plan", "show", "--participant", pid)[1]
    task = next(t for g in shown["goals"] for t in g["tasks"] if t["template"] == "gp")
    code, changed, _err = cli(
        "plan", "task", "update", str(task["id"]), "--status", "blocked", "--notes", "Wachtlijst"
    )
    assert code == 0 and changed["status"] == "blocked" and changed["notes"] == "Wachtlijst"
    code, changed, _err = cli("plan", "task", "update", str(task["id"]), "--title", "Huisarts")
    assert code == 0 and (changed["title"], changed["template"]) == ("Huisarts", None)
    for args, error in (
        (("--status", "later"), "unknown status"),
        (("--due", "2020-01-01"), "in the past"),
        (("--title", ""), "empty"),
        (("--notes", "\u202e"), "text-direction"),
    ):
        code, _data, err = cli("plan", "task", "update", str(task["id"]), *args)
        assert code != 0 and error in err
    after = cli("plan", "show", "--participant", pid)[1]
    same = next(t for g in after["goals"] for t in g["tasks"] if t["id"] == task["id"])
    assert (same["status"], same["title"], same["notes"]) == ("blocked", "Huisarts", "Wachtlijst")


def test_conditions_are_kept_encrypted_for_staff(cli: Any) -> None:
    pid = str(_enrol(cli, "--no-checklist")[1]["id"])
    code, made, _err = cli(
        "condition", "add", "--participant", pid, "--kind", "contact_ban",
        "--text", "Geen contact met de medeverdachte", "--by", "rechtbank", "--until", FUTURE,
    )  # fmt: skip
    assert code == 0 and made["kind"] == "contact_ban"
    assert [c["text"] for c in cli("condition", "list", "--participant", pid)[1]] == [
        "Geen contact met de medeverdachte"
    ]
    for args, error in (
        (("--kind", "curfew", "--text", "x"), "unknown kind"),
        (("--kind", "other", "--text", ""), "empty"),
        (("--kind", "other", "--text", "x" * 5_000_000), "longer than"),
        (("--kind", "other", "--text", "a\u202eb"), "text-direction"),
        (
            ("--kind", "other", "--text", "x", "--from", FUTURE, "--until", "2026-01-01"),
            "ends before",
        ),
    ):
        code, _data, err = cli("condition", "add", "--participant", pid, *args)
        assert code != 0 and error in err
    code, _data, err = cli("condition", "list", "--participant", "999")
    assert code != 0 and "no participant" in err
    assert len(cli("condition", "list", "--participant", pid)[1]) == 1


def test_invite_letter(cli: Any, tmp_path: Path) -> None:
    pid = str(_enrol(cli, "--language", "pl")[1]["id"])
    out = tmp_path / "letter.pdf"
    code, made, _err = cli("invite", "letter", "--participant", pid, "--out", str(out))
    assert code == 0 and made["file"] == str(out) and out.read_bytes().startswith(b"%PDF")
    code, _data, err = cli("invite", "letter", "--participant", pid, "--out", "/nonexistent/x.pdf")
    assert code != 0 and "cannot write" in err
    code, _data, err = cli("invite", "letter", "--participant", "999", "--out", str(out))
    assert code != 0 and "no participant" in err


NOT_FUTURES_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[
    (date.fromisoformat(FUTURE).weekday() + 1) % 7
]
REPORTING = ("--kind", "reporting_duty", "--text", "Wekelijks melden", "--weekday", "tue",
             "--time", "10:00", "--report-to", "Reclassering")  # fmt: skip


def test_a_reporting_duty_from_the_command_line(cli: Any) -> None:
    pid = str(_enrol(cli, "--no-checklist")[1]["id"])
    until = (date.fromisoformat(FUTURE) + timedelta(days=27)).isoformat()
    code, made, _err = cli(
        "condition", "add", "--participant", pid, *REPORTING, "--every-weeks", "2",
        "--place", "Spoorstraat 1", "--from", FUTURE, "--until", until,
    )  # fmt: skip
    assert code == 0 and made["schedule"]["weekday"] == "tue" and len(made["appointments"]) == 2
    assert made["schedule"] == {
        "weekday": "tue", "time": "10:00", "every_weeks": 2, "with": "Reclassering",
        "place": "Spoorstraat 1",
    }  # fmt: skip
    exported = cli("export", "--participant", pid)[1]
    assert len(exported["appointments"]) == 2
    assert exported["conditions"][0]["schedule"]["place"] == "Spoorstraat 1"
    code, ended, _err = cli("condition", "end", str(made["id"]), "--on", FUTURE)
    assert code == 0 and ended["ends_on"] == FUTURE
    kept_first = date.fromisoformat(FUTURE).weekday() == 1  # a Tuesday: its own day stays
    assert len(ended["cancelled"]) == len(made["appointments"]) - kept_first
    code, removed, _err = cli("condition", "remove", str(made["id"]))
    assert code == 0 and removed["removed"] is True
    assert cli("condition", "list", "--participant", pid)[1] == []
    kept = cli("export", "--participant", pid)[1]["appointments"]
    assert {a["status"] for a in kept} == {"cancelled"}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--weekday", "someday"), "not one of"),
        (("--time", "25:00"), "not a time"),
        (("--time", "10:00\u202e"), "not a time"),
        (("--every-weeks", "0"), "from 1 to 52"),
        (("--every-weeks", "-3"), "from 1 to 52"),
        (("--every-weeks", "53"), "from 1 to 52"),
        (("--until", "2020-01-01"), "in the past"),
        (("--from", FUTURE, "--until", "2026-01-02"), "ends before"),
        (("--report-to", "r" * 5_000_000), "longer than"),
        (("--report-to", " "), "empty"),
        (("--report-to", "مكتب\u202e"), "text-direction"),
        (("--place", "p" * 600), "longer than"),
        (("--kind", "treatment"), "only a reporting_duty"),
        (("--weekday", NOT_FUTURES_DAY, "--from", FUTURE, "--until", FUTURE), "no reporting day"),
        (("--weekday", None), "needs --weekday"),
        (("--participant", "999"), "no participant"),
    ],
)
def test_a_bad_reporting_duty_changes_nothing(
    cli: Any, args: tuple[str | None, ...], error: str
) -> None:
    pid = str(_enrol(cli, "--no-checklist")[1]["id"])
    values: dict[str, str | None] = dict(zip(REPORTING[::2], REPORTING[1::2], strict=True))
    values["--participant"] = pid
    values.update(dict(zip(args[::2], args[1::2], strict=True)))  # type: ignore[arg-type]
    flat = [item for key, value in values.items() if value is not None for item in (key, value)]
    code, data, err = cli("condition", "add", *flat)
    assert code != 0 and data is None and error in err and "Traceback" not in err
    assert cli("condition", "list", "--participant", pid)[1] == []
    assert cli("export", "--participant", pid)[1]["appointments"] == []


def test_a_reporting_duty_starts_at_the_release_at_the_earliest(cli: Any) -> None:
    pid = str(_enrol(cli, "--no-checklist")[1]["id"])  # released on FUTURE
    made = cli("condition", "add", "--participant", pid, *REPORTING)[1]
    first = datetime.fromisoformat(made["appointments"][0]["at"]).date()
    assert date.fromisoformat(FUTURE) <= first <= date.fromisoformat(FUTURE) + timedelta(days=7)


def test_bad_ends_and_removals_change_nothing(cli: Any) -> None:
    pid = str(_enrol(cli, "--no-checklist")[1]["id"])
    made = cli("condition", "add", "--participant", pid, *REPORTING, "--from", FUTURE)[1]
    before = cli("export", "--participant", pid)[1]["appointments"]
    cid = str(made["id"])
    for args, error in (
        (("end", cid, "--on", "2020-01-01"), "in the past"),
        (("end", cid, "--on", "someday"), "not a date"),
        (("end", "999"), "no condition"),
        (("remove", "999"), "no condition"),
    ):
        code, data, err = cli("condition", *args)
        assert code != 0 and data is None and error in err and "Traceback" not in err
    assert cli("export", "--participant", pid)[1]["appointments"] == before
    assert cli("condition", "list", "--participant", pid)[1][0]["ends_on"] is None


def test_plan_due_across_a_caseload(cli: Any) -> None:
    for telegram_id in ("501", "502"):
        code, _staff, _err = cli(
            "staff", "add", "--telegram-id", telegram_id, "--role", "officer", "--name", "Olga"
        )
        assert code == 0
    pid = str(_enrol(cli, "--officer", "501")[1]["id"])
    soon = (officer_today() + timedelta(days=2)).isoformat()
    task = cli(
        "plan", "task", "add", "--participant", pid, "--domain", "care", "--title", "Huisarts",
        "--owner", "officer", "--due", soon,
    )[1]  # fmt: skip
    partner = cli("partner", "add", "--name", "Schuldhulp Voorbeeld", "--domain", "money")[1]
    cli("referral", "add", "--participant", pid, "--partner", str(partner["id"]))
    code, found, _err = cli("plan", "due")
    assert code == 0 and [t["id"] for t in found["tasks"]] == [task["id"]]
    assert found["tasks"][0]["days_late"] == -2 and found["tasks"][0]["participant_name"]
    [waiting] = found["referrals_waiting"]
    assert (waiting["partner_name"], waiting["workdays_waiting"]) == ("Schuldhulp Voorbeeld", 0)
    assert cli("plan", "due", "--officer", "501")[1] == found
    assert cli("plan", "due", "--officer", "502")[1]["tasks"] == []
    code, data, err = cli("plan", "due", "--officer", "999")
    assert code != 0 and data is None and "no staff member" in err and "Traceback" not in err


def test_an_introduction_to_someone_not_in_the_chat_changes_nothing(cli: Any) -> None:
    pid = str(_enrol(cli, "--no-checklist")[1]["id"])
    partner = cli("partner", "add", "--name", "Schuldhulp Voorbeeld", "--domain", "money")[1]
    code, data, err = cli(
        "referral", "add", "--participant", pid, "--partner", str(partner["id"]), "--introduce"
    )
    assert code != 0 and data is None and "cannot be reached" in err and "Traceback" not in err
    assert cli("referral", "list", "--participant", pid)[1] == []
    code, made, _err = cli("referral", "add", "--participant", pid, "--partner", str(partner["id"]))
    assert code == 0 and made["introduced"] is False
