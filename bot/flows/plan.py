"""*📋 My plan* and /plan: the participant's own open tasks, due first, each with *Done*
and *I need help with this*. The second opens a help request on the task's domain at
once, with the task as its text, so asking for help is one tap.

The buttons carry the task's id (they also come with the reminder the day before a task
is due), so they work as long as the task is the participant's and still open; the
officer sees every press like any other (bot.services.mirror).

Its scheduled prompt is the weekly overview of what moved in the plan (Sunday 17:00).
"""

from __future__ import annotations

from bot.conversation.choices import ChoiceId
from bot.conversation.flow import Audience, Command, Flow, FlowContext, Prompt
from bot.conversation.replies import Keyboard, Reply
from bot.flows import guide, help_request
from bot.i18n import _
from bot.services import plan, plan_reminders
from db import plans as plans_db
from db.enums import TaskOwner, TaskStatus
from db.models import PlanTask

MAX_SHOWN = 10


async def show(ctx: FlowContext, args: str) -> list[Reply]:
    """The participant's open tasks, each with its buttons."""
    assert ctx.participant is not None
    tasks = await plans_db.open_tasks_for_participant(ctx.session, ctx.participant.id)
    if not tasks:
        return [
            Reply(
                _("Your plan has no open tasks for you now. 🙌 Your officer adds new ones."),
                keyboard=Keyboard.PARTICIPANT,
            )
        ]
    today = plan.local_today(ctx.now, ctx.zone)
    replies = [Reply(_("📋 Your plan. Tap Done when you did it."), keyboard=Keyboard.PARTICIPANT)]
    replies += [plan.task_reply(task, ctx.zone, today) for task in tasks[:MAX_SHOWN]]
    if len(tasks) > MAX_SHOWN:
        replies.append(Reply(_("There is more. Do these first.")))
    return replies


async def choose(ctx: FlowContext, choice: ChoiceId) -> list[Reply]:
    """*Done* or *I need help with this* under a task."""
    task = await _own_open_task(ctx, choice.token)
    if task is None:
        return [Reply(_("This task is already done or changed. Tap 📋 My plan to see it now."))]
    if choice.value == "done":
        await plan.set_status(
            ctx.session,
            task.id,
            TaskStatus.DONE,
            now=ctx.now,
            actor="participant",
            actor_telegram_id=ctx.participant.telegram_id if ctx.participant else None,
        )
        return [Reply(_("Well done! ✅ I marked it as done. Your officer sees it."))]
    if choice.value == "help":
        return await help_request.submit(ctx, {"domain": task.domain, "text": plan.title_of(task)})
    return [guide.stale_button_reply()]


async def _own_open_task(ctx: FlowContext, raw_id: str) -> PlanTask | None:
    """The task with that id, only if it is this participant's own and still open."""
    if ctx.participant is None or not raw_id.isdigit():
        return None
    task = await plans_db.task_by_id(ctx.session, int(raw_id))
    if (
        task is None
        or task.participant_id != ctx.participant.id
        or task.owner != TaskOwner.PARTICIPANT
        or task.status not in plans_db.UNFINISHED
    ):
        return None
    return task


FLOW = Flow(
    id=plan.FLOW_ID,
    audience=Audience.PARTICIPANT,
    commands=(Command("plan", lambda: _("Your plan: what to do next")),),
    keyboard=lambda: _("📋 My plan"),
    start=show,
    on_choice=choose,
    answered_in_place=True,
    prompt=Prompt(
        schedule=lambda _settings: plan_reminders.OVERVIEW_SCHEDULE,
        send=plan_reminders.send_weekly_overviews,
        slot_key="plan_overview_slot",
    ),
    stores=(PlanTask,),
)
