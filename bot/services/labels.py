"""Translated labels shared by several flows: life domains, moods and statuses."""

from __future__ import annotations

from bot.i18n import _

LIFE_DOMAINS = ("housing", "work", "money", "care", "paperwork")
HELP_DOMAINS = (*LIFE_DOMAINS, "justice", "other", "urgent")
MOODS = ("good", "okay", "bad")
DOMAIN_STATUSES = ("fine", "worried", "problem")


def domain_label(domain: str) -> str:
    """A life domain as a button label."""
    labels = {
        "housing": _("🏠 Housing"),
        "work": _("💼 Work or school"),
        "money": _("💶 Money and debts"),
        # Translators: health, mental health and addiction care
        "care": _("❤️ Health and care"),
        # Translators: ID card, DigiD, bank account, health insurance, benefits
        "paperwork": _("📄 Paperwork"),
        "justice": _("⚖️ Justice or probation"),
        "other": _("💬 Something else"),
        "urgent": _("🚨 Urgent"),
    }
    return labels.get(domain, domain)


def domain_question(domain: str) -> str:
    """The check-in question for one life domain."""
    questions = {
        "housing": _("How is it going with your housing?"),
        "work": _("How is it going with work or school?"),
        "money": _("How is it going with money and debts?"),
        "care": _("How is your health? (body, mind, alcohol or drugs)"),
        "paperwork": _("How is your paperwork? (ID, DigiD, bank, insurance)"),
    }
    return questions[domain]


def mood_label(mood: str) -> str:
    """A mood as a button label."""
    return {"good": _("🙂 Good"), "okay": _("😐 Okay"), "bad": _("🙁 Bad")}.get(mood, mood)


def status_label(status: str) -> str:
    """A life-domain status as a button label."""
    return {"fine": _("👍 Fine"), "worried": _("😟 Worried"), "problem": _("⚠️ Problem")}.get(
        status, status
    )


def help_status_label(status: str) -> str:
    """A help request's status as a participant reads it."""
    return {
        "open": _("waiting for your officer"),
        "acknowledged": _("your officer is on it"),
        "resolved": _("resolved"),
    }.get(status, status)


def help_reference(help_request_id: int) -> str:
    """The reference a participant can quote: H- and at least four digits."""
    return f"H-{help_request_id:04d}"


def severity_label(severity: str) -> str:
    """An alert's severity as staff read it (capitals: it heads the alert)."""
    return {
        # Translators: alert severity, in capitals at the top of an alert
        "critical": _("CRITICAL"),
        # Translators: alert severity, in capitals at the top of an alert
        "high": _("HIGH"),
        # Translators: alert severity, in capitals at the top of an alert
        "medium": _("MEDIUM"),
        # Translators: alert severity, in capitals at the top of an alert
        "low": _("LOW"),
    }.get(severity, severity.upper())


def category_label(category: str) -> str:
    """A triage category as staff read it in an alert or a case view."""
    return {
        "self_harm": _("Self-harm or suicidal thoughts"),
        "violence": _("Violence or threats"),
        # Translators: triage category: the participant is in danger (threatened, unsafe)
        "danger": _("In danger"),
        # Translators: triage category: relapse into alcohol or drug use
        "relapse": _("Relapse"),
        "housing": _("Housing"),
        "police": _("Police"),
        # Translators: triage category: talk of committing a crime
        "crime": _("Crime"),
        "debt": _("Debts"),
        "health": _("Health"),
        # Translators: triage category: the participant asks for help
        "help": _("Asks for help"),
    }.get(category, category)


def participant_status_label(status: str) -> str:
    """A participant's status as staff read it."""
    return {
        # Translators: participant status: used the invite, has not agreed to the terms yet
        "registering": _("signing up"),
        # Translators: participant status: enrolled while still in prison, not in the chat yet
        "in_detention": _("in detention"),
        "active": _("active"),
        # Translators: participant status: paused automatic messages with /stop
        "paused": _("paused"),
        # Translators: participant status: blocked the bot or deleted the chat
        "unreachable": _("unreachable"),
    }.get(status, status)


def alert_status_label(status: str) -> str:
    """An alert's state as staff read it."""
    return {
        # Translators: alert state: nobody has picked it up yet
        "open": _("new"),
        "acknowledged": _("picked up"),
        "resolved": _("resolved"),
    }.get(status, status)


def confirmation_label(confirmation: str) -> str:
    """What the participant answered about an appointment, as staff read it."""
    return {
        "pending": _("no answer yet"),
        "confirmed": _("will be there"),
        "declined": _("cannot make it"),
    }.get(confirmation, confirmation)


def task_status_label(status: str) -> str:
    """A plan task's status as a person reads it."""
    return {
        # Translators: plan task status: still to do
        "open": _("to do"),
        "done": _("done"),
        # Translators: plan task status: stuck, something is in the way
        "blocked": _("stuck"),
        # Translators: plan task status: no longer needed
        "dropped": _("dropped"),
    }.get(status, status)


def referral_status_label(status: str) -> str:
    """A referral's status as a person reads it."""
    return {
        # Translators: referral status: the officer sent the referral to the organisation
        "sent": _("sent"),
        "accepted": _("accepted"),
        # Translators: referral status: the organisation has contacted the participant
        "first_contact": _("first contact made"),
        "closed": _("closed"),
        "declined": _("declined"),
    }.get(status, status)


def alert_kind_label(kind: str) -> str:
    """Why an alert was raised, as staff read it in a list."""
    return {
        "flag": _("Flagged message"),
        "help_request": _("Help request"),
        "checkin": _("Check-in answer"),
        "missed_checkins": _("Missed check-ins"),
        "cant_make_it": _("Cannot make an appointment"),
        "no_confirmation": _("Appointment not confirmed"),
        # Translators: alert: the participant paused automatic messages
        "paused": _("Paused messages"),
        "unreachable": _("Cannot be reached"),
        "safety_check": _("Safety question"),
    }.get(kind, kind)
