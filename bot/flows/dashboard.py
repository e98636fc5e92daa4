"""/dashboard: a staff member's one-time login link for the web dashboard."""

from __future__ import annotations

from bot.conversation.flow import Audience, Command, Flow, FlowContext
from bot.conversation.replies import Reply
from bot.i18n import _, clock_time
from bot.services import web_login


async def login_link(ctx: FlowContext, args: str) -> list[Reply]:
    """A link that logs this staff member in once, within ten minutes."""
    staff = ctx.staff
    assert staff is not None
    link = await web_login.link_for(ctx.session, staff, ctx.now, ctx.settings)
    return [
        Reply(
            # Translators: {time} is a time of day like 14:05
            _(
                "Your link to the dashboard (works once, until {time}):\n{url}\n"
                "Do not forward it: it logs in as you."
            ).format(time=clock_time(link.expires_at, ctx.zone), url=link.url)
        )
    ]


FLOW = Flow(
    id="db",
    audience=Audience.STAFF,
    commands=(Command("dashboard", lambda: _("Open the web dashboard"), start=login_link),),
)
