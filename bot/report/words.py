"""The report's words for the states and groups it counts, in the current language.

Plain words without the buttons' emoji: the PDF font has none, and a ministry reader
reads a table, not a chat. Each function takes the stored value (a machine key)."""

from __future__ import annotations

from bot.i18n import _


def total() -> str:
    # Translators: pilot report, the row or column that adds up the others
    return _("total")


def status(key: str) -> str:
    """Where a participant stands today."""
    return {
        # Translators: pilot report, a participant's status; "invite" is the link to the bot
        "in_detention": _("not registered: in detention, invite not used"),
        # Translators: pilot report, a participant's status
        "registering": _("not registered: invite used, no consent yet"),
        # Translators: pilot report, a participant's status
        "active": _("registered: active"),
        # Translators: pilot report, a participant's status; /stop is a command, keep it
        "paused": _("registered: paused (/stop)"),
        # Translators: pilot report, a participant's status
        "unreachable": _("registered: unreachable (blocked the bot)"),
    }.get(key, key)


def confirmation(key: str) -> str:
    """A participant's answer to an appointment's reminders."""
    return {
        # Translators: pilot report, how a participant answered an appointment reminder
        "confirmed": _("confirmed with the reminder button"),
        # Translators: pilot report, how a participant answered an appointment reminder
        "declined": _("declined with the reminder button"),
        # Translators: pilot report, how a participant answered an appointment reminder
        "pending": _("no answer to the reminders"),
    }.get(key, key)


def attendance(key: str | None) -> str:
    """What the officer recorded after an appointment."""
    if key is None:
        # Translators: pilot report, the officer recorded nothing after the appointment
        return _("not recorded")
    return {
        # Translators: pilot report, the participant came to the appointment
        "attended": _("attended"),
        # Translators: pilot report, the participant did not come to the appointment
        "no-show": _("no-show"),
        # Translators: pilot report, the appointment was moved to another time
        "rescheduled": _("rescheduled"),
    }.get(key, key)


def delivery(key: str) -> str:
    """What became of a message to a participant."""
    return {
        # Translators: pilot report, a message was delivered by Telegram
        "sent": _("sent"),
        # Translators: pilot report, a message could not be delivered after retries
        "failed": _("failed"),
        # Translators: pilot report, the participant had blocked the bot
        "blocked": _("blocked"),
        # Translators: pilot report, a message left but no answer came from Telegram
        "unknown": _("unknown"),
    }.get(key, key)


def outcome(key: str) -> str:
    """What became of a plan task due in the period."""
    return {
        # Translators: pilot report, a plan task done on or before its due day
        "on time": _("on time"),
        # Translators: pilot report, a plan task done after its due day
        "late": _("late"),
        # Translators: pilot report, a plan task still open
        "not done": _("not done"),
        # Translators: pilot report, a plan task the officer dropped
        "dropped": _("dropped"),
    }.get(key, key)


def severity(key: str) -> str:
    """An alert's severity, lower case for a table."""
    return {
        # Translators: pilot report, alert severity in a table
        "low": _("low"),
        # Translators: pilot report, alert severity in a table
        "medium": _("medium"),
        # Translators: pilot report, alert severity in a table
        "high": _("high"),
        # Translators: pilot report, alert severity in a table
        "critical": _("critical"),
    }.get(key, key)


def domain(key: str) -> str:
    """A life domain, a plan domain or a help request's domain."""
    return {
        # Translators: pilot report, a life domain
        "housing": _("housing"),
        # Translators: pilot report, a life domain
        "work": _("work or school"),
        # Translators: pilot report, a life domain
        "money": _("money and debts"),
        # Translators: pilot report, a life domain: health, mental health, addiction care
        "care": _("health and care"),
        # Translators: pilot report, a life domain: ID card, DigiD, bank, insurance
        "paperwork": _("paperwork"),
        # Translators: pilot report, a domain of help requests and plans
        "justice": _("justice or probation"),
        # Translators: pilot report, a help request about something else
        "other": _("something else"),
        # Translators: pilot report, a help request marked urgent
        "urgent": _("urgent"),
    }.get(key, key)


def mood(key: str) -> str:
    """A mood given in a check-in."""
    return {
        # Translators: pilot report, a mood given in a check-in
        "good": _("good"),
        # Translators: pilot report, a mood given in a check-in
        "okay": _("okay"),
        # Translators: pilot report, a mood given in a check-in
        "bad": _("bad"),
    }.get(key, key)


def domain_status(key: str) -> str:
    """How a participant marked a life domain in a check-in."""
    return {
        # Translators: pilot report, how a participant marked a life domain
        "fine": _("fine"),
        # Translators: pilot report, how a participant marked a life domain
        "worried": _("worried"),
        # Translators: pilot report, how a participant marked a life domain
        "problem": _("problem"),
    }.get(key, key)
