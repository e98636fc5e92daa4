"""Scenario 7: forum mode under Telegram's 20 messages a minute into a group.

The officers work in one forum supergroup (OPRIT_OFFICER_CHAT_ID), a topic per
participant; the local Telegram answers a 21st message within a minute into a group with
429 and retry_after, as Telegram does. 20 participants of one officer, who never wrote
before, send a burst of 100 messages (5 each) at once; 5 of them are crisis messages
(the last message of 5 of the participants). Measured from the burst's push: when each
crisis alert arrived in the group, and when every message was in the group (in a copy or
an edited text in the participant's topic); how many messages went into the group in any
minute, and how many 429s the bot caused.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any

from benchmarks.common import CRITICAL_TEXT, Context, typical_texts
from benchmarks.harness import bot_env, oprit_process, running, text_update, wait_for, workdir
from benchmarks.seed import seed_participants
from bot.localtelegram import Call, max_calls_in_window
from tests.e2e.botprocess import oprit_json

FORUM = -1_001_234_567_890
OFFICER = 6_200_001
FIRST_PARTICIPANT = 8_900_001
PARTICIPANTS = 20
PER_PARTICIPANT = 5
CRISES = 5
GROUP_WINDOW = 60.0
_REF = re.compile(r"\bref(\d+)\b")


def _refs(call: Call, copied: dict[tuple[int, int], int]) -> set[int]:
    """The message numbers a call into the group shows: a copy of the participant's
    message (copyMessage), or a text quoting it (an alert, an edited summary)."""
    params = call.params
    if call.method == "copyMessage":
        number = copied.get((int(params["from_chat_id"]), int(params["message_id"])))
        return set() if number is None else {number}
    return {int(found) for found in _REF.findall(str(params.get("text", "")))}


async def run(ctx: Context) -> dict[str, Any]:
    """Seed, start the bot in forum mode, push the burst, wait until the group has it all."""
    api = ctx.api
    database = ctx.databases.sqlite("forum")
    cwd = workdir(ctx.root, "forum")
    env = bot_env(api, database, OPRIT_OFFICER_CHAT_ID=str(FORUM))
    officer = oprit_json(
        env, cwd, "staff", "add", "--telegram-id", str(OFFICER), "--role", "officer",
        "--name", "Officer 1",
    )  # fmt: skip
    participants = ctx.scale(PARTICIPANTS, 6)
    people = await seed_participants(
        database.url,
        participants,
        officer_id=int(officer["id"]),
        first_telegram_id=FIRST_PARTICIPANT,
    )
    api.add_group(FORUM, "Oprit officers")
    texts = typical_texts(participants * PER_PARTICIPANT)
    crisis_senders = set(people[-CRISES:])
    bot = oprit_process(
        api, database, cwd, ctx.profile_path("forum"), OPRIT_OFFICER_CHAT_ID=str(FORUM)
    )
    try:
        with running(bot, api):
            api.push_update(text_update(api, OFFICER, "/start", "Officer"))
            await asyncio.sleep(1)
            updates = []
            crises: set[int] = set()
            for round_ in range(PER_PARTICIPANT):
                for index, telegram_id in enumerate(people):
                    number = round_ * participants + index
                    last = round_ == PER_PARTICIPANT - 1
                    crisis = last and telegram_id in crisis_senders
                    body = CRITICAL_TEXT if crisis else texts[number]
                    if crisis:
                        crises.add(number)
                    updates.append(text_update(api, telegram_id, f"{body} ref{number}"))
            copied = {
                (update["message"]["chat"]["id"], update["message"]["message_id"]): number
                for number, update in enumerate(updates)
            }
            since = time.monotonic()
            api.push_many(updates)
            wanted = set(copied.values())

            def into_group() -> list[Call]:
                return [
                    c
                    for method in ("sendMessage", "copyMessage", "editMessageText")
                    for c in api.sends(since, method)
                    if c.chat_id == FORUM
                ]

            def shown() -> set[int]:
                return {ref for c in into_group() if c.ok for ref in _refs(c, copied)}

            timeout = len(updates) / 20 * GROUP_WINDOW + 120
            with contextlib.suppress(TimeoutError):
                await wait_for(lambda: wanted <= shown(), timeout, "every message in the group", 1)
            calls = into_group()
            rss = bot.rss_mb()
    finally:
        await database.dispose()
    first_shown: dict[int, float] = {}
    for call in sorted(calls, key=lambda c: c.at):
        if call.ok:
            for ref in _refs(call, copied):
                first_shown.setdefault(ref, call.at - since)
    # An alert quotes the crisis message; a copy of it is not the alert.
    alerts = sorted(
        c.at - since
        for c in calls
        if c.ok and c.method == "sendMessage" and _refs(c, copied) & crises
    )
    copies_done = max(first_shown.values(), default=None)
    copies = [c.at - since for c in calls if c.ok and c.method == "copyMessage"]
    new_messages = sorted((c for c in calls if c.method != "editMessageText"), key=lambda c: c.at)
    return {
        "messages": len(updates),
        "participants": participants,
        "crises": len(crisis_senders),
        "in_group": len(first_shown),
        "missing": len(wanted - set(first_shown)),
        "all_in_group_s": None if copies_done is None else round(copies_done, 1),
        "alerts_in_group_s": [round(at, 1) for at in alerts],
        "alerts_before_last_copy": all(at <= (copies_done or 0) for at in alerts),
        "copies_before_last_alert": sum(1 for at in copies if alerts and at < max(alerts)),
        "group_sends": len([c for c in new_messages if c.ok]),
        "group_edits": len([c for c in calls if c.method == "editMessageText" and c.ok]),
        "topics_created": len(api.topics(FORUM)),
        "max_sends_in_a_minute": max_calls_in_window(
            [c for c in new_messages if c.ok], GROUP_WINDOW
        ),
        "answered_429": len([c for c in calls if c.status == 429]),
        "peak_rss_mb": round(rss, 1),
    }
