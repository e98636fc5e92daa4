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
