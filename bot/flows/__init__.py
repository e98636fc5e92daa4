"""Every flow, listed once. A new flow is one module in this folder and one line in
`FLOWS`; the dispatcher (bot.engine.dispatch), the scheduler and the command menu read
this list, and export/erase/purge reach the tables a flow `stores` through
db.personal_data.

The order matters twice: the participant keyboard shows the flows that have a button in
this order (two per row), and the command menu lists commands in this order.
"""

from __future__ import annotations

import functools

from bot.conversation.flow import Audience, Command, Flow
from bot.flows import (
    account,
    alert_actions,
    appointments,
    attendance,
    checkin,
    compose_broadcast,
    dashboard,
    guide,
    help_request,
    overview,
    plan,
    plan_appointment,
    registration,
    reply_to,
    resume,
    safety_check,
    sleep,
)
from bot.i18n import available_languages, current_language, use_language

FLOWS: tuple[Flow, ...] = (
    registration.FLOW,
    checkin.FLOW,
    help_request.FLOW,
    appointments.FLOW,
    plan.FLOW,
    account.FLOW,
    guide.FLOW,
    overview.FLOW,
    plan_appointment.FLOW,
    compose_broadcast.FLOW,
    dashboard.FLOW,
    alert_actions.FLOW,
    attendance.FLOW,
    reply_to.FLOW,
    resume.FLOW,
    safety_check.FLOW,
    sleep.FLOW,
)

_BY_ID = {flow.id: flow for flow in FLOWS}
# Staff commands with a Dutch name in the Dutch menu (both names are commands).
DUTCH_NAMES = {"case": "dossier", "handled": "open"}
KEYBOARD_PER_ROW = 2


def by_id(flow_id: str) -> Flow | None:
    """The flow a choice id or a stored state names."""
    return _BY_ID.get(flow_id)


def command(name: str, audience: Audience) -> tuple[Flow, Command] | None:
    """The flow started by /name for this audience (flows for anyone included)."""
    for flow in FLOWS:
        if flow.audience in (audience, Audience.ANYONE):
            for known in flow.commands:
                if known.name == name:
                    return flow, known
    return None


def keyboard_rows() -> list[list[str]]:
    """The participant keyboard in the current language."""
    labels = [flow.keyboard() for flow in FLOWS if flow.keyboard is not None]
    return [labels[i : i + KEYBOARD_PER_ROW] for i in range(0, len(labels), KEYBOARD_PER_ROW)]


@functools.cache
def _keyboard_flows() -> dict[str, Flow]:
    """Every keyboard label in every language, mapped to its flow: a participant may
    press a button of a keyboard sent before they switched language."""
    found: dict[str, Flow] = {}
    for language in available_languages():
        with use_language(language):
            for flow in FLOWS:
                if flow.keyboard is not None:
                    found[flow.keyboard()] = flow
    return found


def keyboard_flow(text: str | None) -> Flow | None:
    """The flow whose keyboard button reads `text`, in any language."""
    return _keyboard_flows().get(text) if text else None


def command_menu(audience: Audience = Audience.PARTICIPANT) -> list[tuple[str, str]]:
    """The commands of an audience with their menu line, in the current language; staff
    reading Dutch see the Dutch names (DUTCH_NAMES), the English ones still work."""
    dutch = current_language() == "nl" and audience is Audience.STAFF
    return [
        (DUTCH_NAMES.get(known.name, known.name) if dutch else known.name, known.describe())
        for flow in FLOWS
        if flow.audience in (audience, Audience.ANYONE)
        for known in flow.commands
        if known.describe is not None
    ]


def prompted() -> list[Flow]:
    """The flows that send a scheduled prompt."""
    return [flow for flow in FLOWS if flow.prompt is not None]
