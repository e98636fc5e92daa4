"""Short texts that explain the bot: help for participants and staff, gentle refusals."""

from __future__ import annotations

from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Keyboard, Reply
from bot.i18n import _
from db.enums import Role


def participant_help() -> Reply:
    """/help for participants: four short lines."""
    return Reply(
        _(
            "✅ Check-in: tell us how you are doing.\n"
            "🙋 I need help: ask your officer for help.\n"
            "📅 My appointments: see when and where.\n"
            "✍️ Or just write. Your officer reads along. /privacy: what we save."
        ),
        keyboard=Keyboard.PARTICIPANT,
    )


def staff_help(role: str) -> Reply:
    """/help for officers and coordinators."""
    # Translators: more lines of the staff /help, shown below the commands above
    plan_lines = _("/plan NAME: one participant's plan\n/tasks: tasks due and referrals waiting")
    if role == Role.COORDINATOR:
        return Reply(
            _(
                "Coordinator commands:\n"
                "/broadcast: send a message to participants\n"
                "/participants: everyone in the programme"
            )
            + "\n"
            + plan_lines
        )
    return Reply(
        _(
            "Officer commands:\n"
            "/invite [name]: make an invite link\n"
            "/participants: your participants\n"
            "/case NAME: one person's timeline\n"
            "/appointment: plan an appointment\n"
            "/handled: open alerts\n"
            "/mute NAME: no copies of someone's everyday messages\n"
            "Reply to an alert or a copied message to answer the participant."
        )
        + "\n"
        + plan_lines
    )


def anonymous_not_relayed() -> Reply:
    """For a group admin who writes as the group: we cannot tell who it is."""
    return Reply(
        _(
            "Anonymous posts are not sent to participants: I cannot see who wrote them. "
            "Turn off 'Remain anonymous' in your admin rights to write to a participant."
        )
    )


def unknown_command_reply() -> Reply:
    """A command the bot does not know."""
    return Reply(_("Sorry, I do not know that command."))


def stale_button_reply() -> Reply:
    """A button from an older message, or one that was tampered with: nothing changes."""
    return Reply(_("That button is from an older message, so I did nothing. 🙂"))


async def show_help(ctx: FlowContext, args: str) -> list[Reply]:
    """/help: four short lines for participants, a command list for staff."""
    return [staff_help(ctx.staff.role) if ctx.staff else participant_help()]


FLOW = Flow(
    id="help",
    audience=Audience.ANYONE,
    commands=(Command("help", lambda: _("How this bot works")),),
    start=show_help,
)
