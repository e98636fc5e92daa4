"""*Send me my data* as a document a participant can read on a phone: plain text in their
language, newest first per section, dates without seconds. The complete JSON (the same as
`oprit export`) goes along for anyone who needs every field."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from bot.i18n import _, language_name, ngettext, timestamp
from bot.services.conditions import kind_label
from bot.services.labels import (
    alert_status_label,
    category_label,
    confirmation_label,
    domain_label,
    help_status_label,
    mood_label,
    referral_status_label,
    status_label,
    task_status_label,
)
from bot.services.plan import template_title

MAX_LINE = 500  # a very long message is cut in the overview (the JSON has it whole)


def _when(value: object, zone: tzinfo) -> str:
    if not isinstance(value, str) or not value:
        return "—"
    try:
        return timestamp(datetime.fromisoformat(value), zone)
    except ValueError:
        return "—"


def _short(text: object) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= MAX_LINE else line[:MAX_LINE] + "…"


def _section(title: str, lines: list[str]) -> list[str]:
    heading = f"{title} ({len(lines)})"
    return ["", heading, "-" * len(heading), *(lines or [_("Nothing.")])]


def _messages(rows: list[dict[str, Any]], zone: tzinfo) -> list[str]:
    lines = []
    for row in rows:
        who = _("You") if row.get("direction") == "in" else "Oprit"
        text = row.get("text") or f"[{row.get('kind', '')}]"
        lines.append(f"{_when(row.get('at'), zone)} · {who}: {_short(text)}")
    return lines


def _checkins(rows: list[dict[str, Any]], zone: tzinfo) -> list[str]:
    lines = []
    for row in rows:
        if not row.get("completed_at"):
            continue
        parts = [mood_label(str(row.get("mood") or ""))]
        answers = row.get("answers") or {}
        parts += [f"{domain_label(d)} {status_label(s)}" for d, s in answers.items()]
        if row.get("note"):
            parts.append(_short(row["note"]))
        lines.append(f"{_when(row.get('completed_at'), zone)} · " + ", ".join(parts))
    return lines


def _help_requests(rows: list[dict[str, Any]], zone: tzinfo) -> list[str]:
    return [
        f"{_when(row.get('created_at'), zone)} · {row.get('reference')} "
        f"{domain_label(str(row.get('domain')))}: {_short(row.get('text'))} "
        f"({help_status_label(str(row.get('status')))})"
        for row in rows
    ]


def _appointments(rows: list[dict[str, Any]], zone: tzinfo) -> list[str]:
    return [
        f"{_when(row.get('at'), zone)} · {_short(row.get('with'))}"
        + (f", {_short(row.get('location'))}" if row.get("location") else "")
        + f" ({confirmation_label(str(row.get('confirmation')))})"
        for row in rows
    ]


def _alerts(rows: list[dict[str, Any]], zone: tzinfo) -> list[str]:
    lines = []
    for row in rows:
        categories = ", ".join(category_label(str(c)) for c in row.get("categories") or [])
        reason = categories or str(row.get("kind", ""))
        state = alert_status_label(str(row.get("status")))
        lines.append(f"{_when(row.get('created_at'), zone)} · {reason} ({state})")
    return lines


def _plan(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    for row in rows:
        template = row.get("template")
        title = template_title(str(template)) if template else _short(row.get("title"))
        due = f" · {row['due']}" if row.get("due") else ""
        status = task_status_label(str(row.get("status")))
        lines.append(f"{domain_label(str(row.get('domain')))}: {title}{due} ({status})")
    return lines


def _referrals(rows: list[dict[str, Any]]) -> list[str]:
    return [
        f"{row.get('sent_on') or '—'} · {referral_status_label(str(row.get('status')))}"
        + (f": {_short(row.get('outcome'))}" if row.get("outcome") else "")
        for row in rows
    ]


def _conditions(rows: list[dict[str, Any]]) -> list[str]:
    return [f"{kind_label(str(row.get('kind')))}: {_short(row.get('text'))}" for row in rows]


def as_text(document: dict[str, Any], zone: tzinfo, now: datetime) -> str:
    """The export as plain text in the current language."""
    person = document.get("participant") or {}
    lines = [
        _("Everything Oprit saved about you, on {date}").format(date=timestamp(now, zone)),
        "",
        _("Name: {name}").format(name=person.get("name", "")),
        _("Language: {language}").format(
            language=language_name(str(person.get("language") or "nl"))
        ),
        _("Signed up: {date}").format(date=_when(person.get("consent_at"), zone)),
    ]
    sections = (
        (_("Your messages and our answers"), _messages(document.get("messages") or [], zone)),
        (_("Check-ins"), _checkins(document.get("checkins") or [], zone)),
        (_("Help requests"), _help_requests(document.get("help_requests") or [], zone)),
        (_("Appointments"), _appointments(document.get("appointments") or [], zone)),
        (_("Your plan"), _plan(document.get("plan") or [])),
        # Translators: section of the participant's data export: organisations that help them
        (_("Referrals to partners"), _referrals(document.get("referrals") or [])),
        (
            _("Conditions from the court or probation"),
            _conditions(document.get("conditions") or []),
        ),
        (_("What your officer was told"), _alerts(document.get("alerts") or [], zone)),
    )
    for title, rows in sections:
        lines += _section(title, rows)
    staff = len(document.get("staff_messages") or [])
    lines += [
        "",
        ngettext(
            "Your officer also got {count} message about you (copies and alerts).",
            "Your officer also got {count} messages about you (copies and alerts).",
            staff,
        ).format(count=staff),
        _("Every detail, for a computer, is in the second file (my-data.json)."),
    ]
    return "\n".join(lines) + "\n"
