"""RESULTS.md from the results document: a headline table against the targets, then the
figures of every scenario. With a baseline (an earlier results.json) the headline shows
the earlier figure beside the new one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = tuple[str, str, Any, Any, bool | None]


def _get(document: dict[str, Any] | None, *path: Any) -> Any:
    value: Any = (document or {}).get("results", {})
    for key in path:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and isinstance(key, int) and key < len(value):
            value = value[key]
        else:
            return None
    return value


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        text = f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text} {unit}".strip()


def _throughput(document: dict[str, Any] | None, kind: str, size: int) -> dict[str, Any] | None:
    for row in _get(document, "throughput", "oprit") or []:
        if row.get("database") == kind and row.get("registered") == size:
            return dict(row)
    return None


def _broadcast(document: dict[str, Any] | None, index: int) -> dict[str, Any] | None:
    runs = _get(document, "broadcast", "runs") or []
    return runs[index] if index < len(runs) else None


def _max_rss(document: dict[str, Any] | None) -> float | None:
    found: list[float] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "peak_rss_mb" and isinstance(item, int | float):
                    found.append(float(item))
                elif key != "echo":
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk((document or {}).get("results", {}))
    return max(found) if found else None


def headline(document: dict[str, Any], baseline: dict[str, Any] | None) -> list[Row]:
    """(what, target, before, now, met) for every target of the issue."""
    rows: list[Row] = []

    def add(what: str, target: str, pick: Callable[[dict[str, Any] | None], Any], ok: Any) -> None:
        now = pick(document)
        verdict = None if now is None else ok(now)
        met = None if verdict is None else bool(verdict)
        rows.append((what, target, pick(baseline) if baseline else None, now, met))

    for size in (1, 100, 10_000, 1_000):
        if _throughput(document, "sqlite", size) is None:
            continue
        add(
            f"Inbound, SQLite, {size:,} registered: Oprit/echo",
            "≥ 0.6",
            lambda d, s=size: (_throughput(d, "sqlite", s) or {}).get("ratio_to_echo"),
            lambda v: v >= 0.6,
        )
    for size in (1, 100, 10_000, 1_000):
        if _throughput(document, "postgresql", size) is None:
            continue
        add(
            f"Inbound, PostgreSQL, {size:,} registered: Oprit/echo",
            "(none)",
            lambda d, s=size: (_throughput(d, "postgresql", s) or {}).get("ratio_to_echo"),
            lambda v: None,
        )
    add(
        "Alert latency p99, idle (ms)",
        "≤ 300",
        lambda d: _get(d, "alerts", "idle", "p99"),
        lambda v: v <= 300,
    )
    add(
        "Alert latency p99, broadcast + 100 msg/s (ms)",
        "≤ 300",
        lambda d: _get(d, "alerts", "loaded", "p99"),
        lambda v: v <= 300,
    )
    if _get(document, "alerts", "loaded", "broadcast_ratio") is not None:
        add(
            "Broadcast during the alert window: achieved/rate",
            "≥ 0.9",
            lambda d: _get(d, "alerts", "loaded", "broadcast_ratio"),
            lambda v: v >= 0.9,
        )
    for index in range(4):
        run = _broadcast(document, index)
        if run is None:
            continue
        label = (
            f"Broadcast {run['recipients']:,}, {'with' if run['with_429s'] else 'no'} 429s: "
            "achieved/rate"
        )
        add(label, "≥ 0.95", lambda d, i=index: (_broadcast(d, i) or {}).get("ratio"), ge95)
        add(
            label.replace("achieved/rate", "duplicates"),
            "0",
            lambda d, i=index: (_broadcast(d, i) or {}).get("duplicates"),
            lambda v: v == 0,
        )
    target = _get(document, "reminders", "target_p99_s")
    for key, what in (
        ("queued_lateness_s", "queued by the scheduler"),
        ("delivered_lateness_s", "arrived at the local Telegram"),
    ):
        add(
            f"5,000 reminders, p99 lateness {what} (s)",
            f"≤ {_fmt(target)}",
            lambda d, k=key: _get(d, "reminders", k, "p99"),
            lambda v: target is not None and v <= target,
        )
    add(
        "5,000 reminders: earliest arrival (s before due)",
        "≤ 600",
        lambda d: _negated(_get(d, "reminders", "delivered_lateness_s", "min")),
        lambda v: v <= 600,
    )
    add(
        "5,000 reminders: latest arrival (s after due)",
        "≤ 30",
        lambda d: _get(d, "reminders", "delivered_lateness_s", "max"),
        lambda v: v <= 30,
    )
    add(
        "5,000 reminders: duplicates",
        "0",
        lambda d: _get(d, "reminders", "duplicates"),
        lambda v: v == 0,
    )
    for name, where, _ in _national(document, "scale", "participants_ms"):
        for key, what in (
            ("participants_ms", "/participants (officer with 40)"),
            ("case_typical_ms", "/case, typical participant"),
            ("case_heavy_ms", "/case, 20,000-message participant"),
        ):
            add(
                f"5 M messages, {name}: {what}, p50 (ms)",
                "≤ 200",
                lambda d, w=where, k=key: _get(d, *w, k, "p50"),
                lambda v: v <= 200,
            )
        if _get(document, *where, "purge", "older_left") is not None:
            add(
                f"5 M messages, {name}: messages past retention left by `oprit purge`",
                "0",
                lambda d, w=where: _get(d, *w, "purge", "older_left"),
                lambda v: v == 0,
            )
    for name, where, _ in _national(document, "dashboard", "caseload_officer_ms"):
        for key, what in (
            ("caseload_officer_ms", "caseload page, officer with 40"),
            ("caseload_coordinator_ms", "caseload page, coordinator (50,000, first 100)"),
            ("participant_typical_ms", "participant page, typical"),
            ("participant_heavy_ms", "participant page, 20,000 messages"),
        ):
            add(
                f"Dashboard, 5 M messages, {name}: {what}, p95 (ms)",
                "≤ 200",
                lambda d, w=where, k=key: _get(d, *w, k, "p95"),
                lambda v: v <= 200,
            )
    if _get(document, "forum", "messages") is not None:
        add(
            "Forum, burst of 100 under 20/min: every message in the group (s)",
            "(none)",
            lambda d: _get(d, "forum", "all_in_group_s"),
            lambda v: None,
        )
        add(
            "Forum: the last of 5 crisis alerts in the group (s)",
            "(none)",
            lambda d: max(_get(d, "forum", "alerts_in_group_s") or [None]),
            lambda v: None,
        )
    if _get(document, "webhook", "throughput") is not None:
        add(
            "Two webhook workers, PostgreSQL, 100 registered senders: msg/s",
            "(none)",
            lambda d: _get(d, "webhook", "throughput", "per_second"),
            lambda v: None,
        )
        add(
            "Two webhook workers: alert latency p99, 100 msg/s (ms)",
            "≤ 300",
            lambda d: _get(d, "webhook", "alerts", "p99"),
            lambda v: v <= 300,
        )
    for name, where, _ in _national(document, "pilot_report", "first_run"):
        add(
            f"5 M messages, {name}: `oprit report` of a year, every format (s)",
            "≤ 60",
            lambda d, w=where: _get(d, *w, "first_run", "seconds"),
            lambda v: v <= 60,
        )
    add("Bot peak RSS, any scenario (MB)", "≤ 250", _max_rss, lambda v: v <= 250)
    return rows


# Where the national database's figures are: SQLite's in their own scenarios,
# PostgreSQL's in one scenario that measures all three parts on one database.
NATIONAL = (("SQLite", ()), ("PostgreSQL", ("scale_postgres",)))


Found = list[tuple[str, tuple[str, ...], tuple[str, ...]]]


def _national(document: dict[str, Any], part: str, key: str) -> Found:
    """(database, path to the part's figures, path to its scenario's) for each database
    `part` was measured on."""
    return [
        (name, (*prefix, part), prefix or (part,))
        for name, prefix in NATIONAL
        if _get(document, *prefix, part, key) is not None
    ]


def _negated(value: float | None) -> float | None:
    return None if value is None else -value


def ge95(value: float) -> bool:
    """The broadcast target."""
    return value >= 0.95


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _details(document: dict[str, Any]) -> list[str]:
    results = document.get("results", {})
    out: list[str] = []
    throughput = results.get("throughput", {})
    if "oprit" in throughput:
        echo = throughput.get("echo", {})
        out += ["", "### 1. Inbound throughput", ""]
        if "samples" in echo:
            out.append(
                "Echo bot (python-telegram-bot Application, polling, no database) doing the "
                "same outbound work as Oprit (it answers each sender's first message, as "
                f"Oprit acknowledges each sender once): **{_fmt(echo.get('per_second'))} "
                f"msg/s**, the median of {len(echo['samples'])} samples taken before, between "
                "and after Oprit's runs ("
                + ", ".join(_fmt(rate) for rate in echo["samples"])
                + f"); {_fmt(echo.get('messages'))} messages from "
                f"{_fmt(echo.get('senders'))} senders each. Oprit/echo is against the median; "
                "the range is against the fastest and the slowest sample."
            )
        else:
            out.append(
                f"Echo bot (python-telegram-bot Application, polling, no database): "
                f"**{_fmt(echo.get('per_second'))} msg/s** ({_fmt(echo.get('messages'))} "
                f"messages from {_fmt(echo.get('senders'))} senders in "
                f"{_fmt(echo.get('seconds'))} s)."
            )
        out.append("")
        out.append(
            _table(
                [
                    "database",
                    "participants",
                    "senders",
                    "msg/s",
                    "Oprit/echo",
                    "range",
                    "bot CPU s",
                    "acks",
                    "errors",
                    "RSS MB",
                ],
                [
                    [
                        r["database"],
                        r["registered"],
                        r["senders"],
                        r["per_second"],
                        r["ratio_to_echo"],
                        "–".join(_fmt(v) for v in r.get("ratio_range") or []) or None,
                        r.get("bot_cpu_seconds"),
                        r["acknowledgements"],
                        r["errors"],
                        r["peak_rss_mb"],
                    ]
                    for r in throughput["oprit"]
                ],
            )
        )
    alerts = results.get("alerts", {})
    if "idle" in alerts:
        timed_from = (
            "available" if "broadcast_ratio" in alerts["loaded"] else "hand-out in getUpdates"
        )
        out += ["", f"### 2. Crisis alert latency (ms, {timed_from} → alert at the fake)"]
        out.append("")
        rows = []
        for name in ("idle", "loaded"):
            d = alerts[name]
            rows.append([name, d["n"], d["p50"], d["p95"], d["p99"], d["max"], d["missing"]])
        out.append(_table(["load", "n", "p50", "p95", "p99", "max", "missing"], rows))
        loaded = alerts["loaded"]
        out.append("")
        if "broadcast_ratio" in loaded:
            out.append(
                f"Under load: {_fmt(loaded.get('burst_messages'))} everyday messages pushed in "
                f"{_fmt(loaded.get('burst_seconds'))} s and "
                f"{_fmt(loaded.get('probes_per_second'))} crisis messages a second, while a "
                f"broadcast to {_fmt(loaded.get('broadcast_recipients'))} ran at "
                f"OPRIT_BROADCAST_RATE={_fmt(loaded.get('broadcast_rate_configured'))}: it sent "
                f"{_fmt(loaded.get('broadcast_messages_during'))} messages in that window, "
                f"**{_fmt(loaded.get('broadcast_per_second'))}/s** "
                f"({_fmt(loaded.get('broadcast_ratio'))} of its rate); all sends together "
                f"{_fmt(loaded.get('sends_per_second'))}/s of Telegram's ~30. Inbox backlog "
                f"after the window: {_fmt(loaded.get('inbox_backlog_after'))} updates."
            )
        else:
            out.append(
                f"Under load: {_fmt(loaded.get('burst_messages'))} everyday messages pushed in "
                f"{_fmt(loaded.get('burst_seconds'))} s while a broadcast to "
                f"{_fmt(loaded.get('broadcast_recipients'))} ran "
                f"({_fmt(loaded.get('broadcast_messages_during'))} broadcast messages went out "
                "meanwhile: acknowledgements, safety replies and alerts go first)."
            )
        parts = loaded.get("parts_ms") or {}
        if parts:
            out.append("")
            out.append(
                "Where the time went under load (p50 / p99 ms): "
                + "; ".join(
                    f"{name} {_fmt(part.get('p50'))} / {_fmt(part.get('p99'))}"
                    for name, part in (
                        *(
                            (("available → handed out by getUpdates", parts["fetch"]),)
                            if "fetch" in parts
                            else ()
                        ),
                        (
                            f"{'handed out' if 'fetch' in parts else timed_from} → alert queued "
                            "(inbox)",
                            parts.get("inbox", {}),
                        ),
                        ("queued → claimed by the sender", parts.get("claim", {})),
                        ("claimed → arrived at the fake", parts.get("send", {})),
                    )
                )
                + f". The bot used {_fmt(loaded.get('bot_cpu_share'))} of a CPU meanwhile."
            )
    broadcast = results.get("broadcast", {})
    if "runs" in broadcast:
        out += ["", "### 3. Broadcast rate (OPRIT_BROADCAST_RATE=25)", ""]
        out.append(
            _table(
                [
                    "recipients",
                    "429s",
                    "measured",
                    "delivered",
                    "attempts",
                    "429 answered",
                    "msg/s",
                    "ratio",
                    "max attempts in 1 s",
                    "duplicates",
                ],
                [
                    [
                        r["recipients"],
                        "yes" if r["with_429s"] else "no",
                        r["measured"],
                        r["delivered"],
                        r["attempts"],
                        r["answered_429"],
                        r["per_second"],
                        r["ratio"],
                        r["max_attempts_in_1s"],
                        r["duplicates"],
                    ]
                    for r in broadcast["runs"]
                ],
            )
        )
    reminders = results.get("reminders", {})
    if "queued_lateness_s" in reminders:
        out += ["", "### 4. Reminder timeliness (s after due; negative is early)", ""]
        rows = []
        for key, name in (("queued_lateness_s", "queued"), ("delivered_lateness_s", "delivered")):
            d = reminders[key]
            rows.append([name, d["n"], d.get("min"), d["p50"], d["p95"], d["p99"], d["max"]])
        out.append(_table(["lateness", "n", "min", "p50", "p95", "p99", "max"], rows))
        out.append("")
        out.append(
            f"{_fmt(reminders.get('reminders'))} reminders due within "
            f"{_fmt(reminders.get('due_within_s'))} s; earliest arrival "
            f"{_fmt(_negated(reminders['delivered_lateness_s'].get('min')))} s before its due "
            f"time, latest {_fmt(reminders['delivered_lateness_s'].get('max'))} s after it "
            "(targets: none more than 10 minutes early, none more than 30 s late)"
            + (
                f"; {_fmt(reminders.get('early_over_600s'))} more than 10 minutes early, "
                f"{_fmt(reminders.get('late_over_30s'))} more than 30 s late"
                if "early_over_600s" in reminders
                else ""
            )
            + "; delivered "
            f"{_fmt(reminders.get('delivered'))}, missing {_fmt(reminders.get('missing'))}, "
            f"duplicates {_fmt(reminders.get('duplicates'))}. OPRIT_SCHEDULER_TICK = "
            f"{_fmt(reminders.get('tick_s'))} s. The bot was started "
            f"{_fmt(reminders.get('bot_started_before_due_s'))} s before the first was due. At "
            "Telegram's ~30 messages/s, sent from their due time the last one would arrive "
            f"{_fmt(reminders.get('telegram_floor_max_s'))} s late; the scheduler starts a peak "
            "early (at most 10 minutes) so that none is late."
        )
    out += _scale_section(document) + _dashboard_section(document)
    forum = results.get("forum", {})
    if "messages" in forum:
        out += ["", "### 7. Forum mode under Telegram's 20 messages a minute into a group", ""]
        out.append(
            f"{_fmt(forum.get('participants'))} participants who never wrote before sent "
            f"{_fmt(forum.get('messages'))} messages at once, {_fmt(forum.get('crises'))} of "
            "them crisis messages. Every message was in the group (a copy or an edited copy "
            f"in its topic) after **{_fmt(forum.get('all_in_group_s'))} s** "
            f"({_fmt(forum.get('in_group'))} shown, {_fmt(forum.get('missing'))} missing); "
            "the crisis alerts arrived in the group after "
            + ", ".join(_fmt(at) for at in forum.get("alerts_in_group_s") or [])
            + f" s ({_fmt(forum.get('copies_before_last_alert'))} copies of earlier messages, "
            "queued before the crises were read, went before the last alert). "
            f"{_fmt(forum.get('topics_created'))} topics made, "
            f"{_fmt(forum.get('group_sends'))} messages and {_fmt(forum.get('group_edits'))} "
            f"edits into the group, at most {_fmt(forum.get('max_sends_in_a_minute'))} "
            f"messages in any minute, {_fmt(forum.get('answered_429'))} answered with 429."
        )
    hook = results.get("webhook", {})
    if "throughput" in hook:
        inbound, alerts = hook["throughput"], hook["alerts"]
        out += ["", "### 8. Two webhook workers on PostgreSQL (`oprit webhook`)", ""]
        out.append(
            f"The benchmark POSTs to the {_fmt(hook.get('workers'))} workers in turn, up to 40 "
            f"at a time. A backlog of {_fmt(inbound.get('messages'))} everyday messages from "
            f"{_fmt(inbound.get('senders'))} senders: **{_fmt(inbound.get('per_second'))} "
            f"msg/s** ({_fmt(inbound.get('seconds'))} s until every update was processed and "
            f"every acknowledgement arrived; {_fmt(inbound.get('acknowledgements'))} "
            "acknowledgements). Crisis alerts (from handing the update to the poster to the "
            f"alert at the local Telegram) while {_fmt(alerts.get('burst_messages'))} everyday "
            f"messages came in over {_fmt(alerts.get('burst_seconds'))} s:"
        )
        out.append("")
        out.append(
            _table(
                ["n", "p50", "p95", "p99", "max", "missing"],
                [[alerts[k] for k in ("n", "p50", "p95", "p99", "max", "missing")]],
            )
        )
        out.append("")
        out.append(f"POSTs that failed five times: {_fmt(hook.get('failed_posts'))}.")
    out += _report_section(document)
    return out


def _databases(found: Found) -> str:
    return ", ".join(name for name, _, _ in found)


def _wall(result: dict[str, Any] | None) -> Any:
    """A command's wall time, or why it has none."""
    if not result:
        return None
    if result.get("ok"):
        return result.get("seconds")
    return f"failed: {result.get('note')}"


def _latencies(
    document: dict[str, Any],
    found: Found,
    label: str,
    rows: tuple[tuple[str, str], ...],
    stats: tuple[str, ...],
) -> str:
    """One row per measured thing, the databases side by side."""
    header = [label, "n"] + [f"{name} {stat} ms" for name, _, _ in found for stat in stats]
    table = []
    for key, what in rows:
        cells: list[Any] = [what, _get(document, *found[0][1], key, "n")]
        cells += [_get(document, *where, key, stat) for _, where, _ in found for stat in stats]
        table.append(cells)
    return _table(header, table)


def _scale_section(document: dict[str, Any]) -> list[str]:
    found = _national(document, "scale", "participants_ms")
    if not found:
        return []
    out = ["", f"### 5. Database scale ({_databases(found)})", ""]
    for name, _, home in found:
        rows = _get(document, *home, "rows") or {}
        seconds = _get(document, *home, "generation_s") or {}
        how = "loaded with COPY" if name == "PostgreSQL" else "generated"
        out.append(
            f"{name}: "
            + ", ".join(f"{k} {_fmt(v)}" for k, v in rows.items())
            + f"; {_fmt(_get(document, *home, 'database_mb'))} MB on disk; {how} in "
            f"{_fmt(sum(seconds.values()))} s (messages {_fmt(seconds.get('messages'))} s)."
        )
        out.append("")
    commands = (
        ("participants_ms", "/participants (40 participants)"),
        ("case_typical_ms", "/case (100 messages)"),
        ("case_heavy_ms", "/case (20,000 messages)"),
    )
    out += [_latencies(document, found, "officer command", commands, ("p50", "max")), ""]
    rows = []
    for key, what in (
        ("cli_startup", "`oprit db current` (process start only)"),
        ("export_typical", "`oprit export` (100 messages)"),
        ("export_heavy", "`oprit export` (20,000 messages)"),
        ("purge", "`oprit purge` (730 days)"),
    ):
        rows.append([what, *(_wall(_get(document, *where, key)) for _, where, _ in found)])
    out += [_table(["command", *(f"{name} wall s" for name, _, _ in found)], rows), ""]
    for name, where, _ in found:
        purge = _get(document, *where, "purge") or {}
        if "older_left" in purge:
            out.append(
                f"{name}: `oprit purge` deleted "
                f"{_fmt(purge['messages_before'] - purge['messages_after'])} of "
                f"{_fmt(purge['messages_before'])} messages; "
                f"{_fmt(purge['older_than_retention'])} were older than 730 days, "
                f"{_fmt(purge['older_left'])} of those are left."
            )
            out.append("")
    out.append(
        "Bot peak RSS: "
        + ", ".join(
            f"{name} {_fmt(_get(document, *where, 'peak_rss_mb'))} MB" for name, where, _ in found
        )
        + "."
    )
    return out


def _dashboard_section(document: dict[str, Any]) -> list[str]:
    found = _national(document, "dashboard", "caseload_officer_ms")
    if not found:
        return []
    home = found[0][2]
    participants = _get(document, *home, "participants")
    messages = _get(document, *home, "messages")
    out = ["", f"### 6. Staff dashboard ({_databases(found)}, `oprit web`)", ""]
    out.append(
        f"{_fmt(participants)} participants, {_fmt(messages)} messages; whole page loads over "
        "HTTP on 127.0.0.1 after logging in through a one-time link."
    )
    out.append("")
    pages = (
        ("caseload_officer_ms", "caseload, officer with 40 participants"),
        ("caseload_coordinator_ms", "caseload, coordinator (50,000; first 100 rows)"),
        ("caseload_coordinator_search_ms", "caseload, coordinator, search by name"),
        ("participant_typical_ms", "participant page (100 messages)"),
        ("participant_heavy_ms", "participant page (20,000 messages)"),
    )
    out.append(_latencies(document, found, "page", pages, ("p50", "p95", "max")))
    return out


def _report_section(document: dict[str, Any]) -> list[str]:
    found = _national(document, "pilot_report", "first_run")
    if not found:
        return []
    _, first, home = found[0]
    period = _get(document, *first, "period") or {}
    participants = _get(document, *home, "participants")
    messages = _get(document, *home, "messages")
    out = ["", f"### 9. Pilot report ({_databases(found)}, `oprit report`)", ""]
    out.append(
        f"{_fmt(participants)} participants, {_fmt(messages)} messages; the report of "
        f"{period.get('from')} to {period.get('to')} in every format (HTML, PDF, a CSV per "
        "table), wall time of the command."
    )
    out.append("")
    rows = []
    for key, what in (("first_run", "first run"), ("second_run", "second run")):
        rows.append(
            [
                what,
                *(_wall(_get(document, *where, key)) for _, where, _ in found),
                _get(document, *first, key, "files"),
                _get(document, *first, key, "output_kb"),
            ]
        )
    header = ["run", *(f"{name} wall s" for name, _, _ in found), "files", "output kB"]
    out.append(_table(header, rows))
    return out


METHOD = """\
## Method and limits

- The bot runs as `python -m bot run` with the defaults (OPRIT_SCHEDULER_TICK 15 s,
  OPRIT_BROADCAST_RATE 25) and the test key; the local Telegram runs in a thread of the
  benchmark process. Bot and fake share the 2 CPUs (with PostgreSQL, when it runs), so
  the figures are what one small machine does, not what Telegram's servers would allow.
- Databases are fresh per scenario. Participants are inserted in bulk
  (`benchmarks/seed.py`); the 5-million-message database is made by one row producer
  (`benchmarks/generate.py`, reusing a few dozen Fernet tokens) and written with SQLite's
  executemany or PostgreSQL's COPY. On PostgreSQL one database serves the officer's
  commands, export, the dashboard and the report, and `oprit purge` runs last; the
  throwaway server runs with fsync off and the default shared_buffers (128 MB).
- Inbound: a backlog of 2,000 everyday Dutch messages (unflagged lines of the triage test
  set) from up to 100 participants, after a 20-message warm-up; done when every update is
  processed and every acknowledgement has arrived. The echo bot gets the same backlog and
  does the same outbound work (one answer per sender), three times, alternating with
  Oprit's runs.
- Alerts: the first critical message (a warm-up) is not counted. Under load the
  critical messages come from participants of 10 officers in turn, because Telegram lets
  a bot write about once a second into one chat. The loaded run asks no more than
  Telegram's ~30 sends a second: a broadcast at 15/s, four crises a second (a safety
  answer and an alert each: 8 sends) and the rest for acknowledgements of 100 everyday
  messages a second; at 25/s plus five crises a second (35 sends) something would have
  to wait whatever the bot did. 1,000 crises, so p99 is not the slowest one; each is
  timed from the moment its update was available at the local Telegram.
- Broadcasts of 10,000 take 400 s at 25/s; they are measured over their first 30 s.
- Reminders: Telegram takes about 30 messages a second from one bot, so 5,000 reminders
  due within one minute cannot all arrive within 2 × the tick if sending starts when they
  fall due. The scheduler sees a peak coming (up to 10 minutes ahead) and starts early
  enough at the rate it plans for (20 reminders a second), so they arrive up to a few
  minutes early instead of late; without a peak a reminder goes at its time.
- Figures vary from run to run: bot, fake, load generator and PostgreSQL share the 2
  CPUs. Over four runs of the same code the loaded alert p99 was 145 to 314 ms and the
  echo bot's own rate 840 to 1,030 messages a second. Compare runs, not single numbers.
- Forum mode: the local Telegram answers a 21st message within a minute into a group
  with 429 and retry_after, as Telegram does; the bot's own limit keeps it under that.
- Webhook mode: the benchmark is Telegram's side, POSTing each update once (again only
  when a worker did not answer 200) to the two workers in turn.
"""


HISTORY = """\
## What the benchmarks changed

Changes the measurements above led to, with what was measured before them. The code
states the rule each one keeps; the numbers live here.

- **Update groups** (bot/engine/inbox.py): one transaction per update made the commit
  most of an update's cost; several updates now share one transaction.
- **Prefetched senders** (db/people.py): two look-ups per update were half of an update's
  queries; a group's senders are now read in two queries.
- **One insert per inbox batch** (db/inbox.py): a statement per update was a tenth of the
  inbox's database round trips.
- **Gathering updates** (bot/channels/telegram/polling.py): under a burst, getUpdates
  returned one or two updates at a time, 75 times a second, and those requests and their
  transactions took a seventh of the bot's time; it now waits 50 ms after a batch.
- **Slots kept for urgent messages** (bot/delivery/sender.py): under a broadcast and a
  burst, an alert waited up to a second for a free send slot; five of Telegram's 30 a
  second are kept for urgent messages, and with five an alert still waited up to half a
  second during a wave of crisis messages, so twelve are kept while one is going on.
- **Chunked broadcast rows** (db/broadcasts.py): encrypting thousands of delivery rows
  in one go held the event loop for a third of a second while a crisis alert waited.
- **Reminder batches per tick** (bot/engine/scheduler.py): one batch per tick queued
  5,000 reminders due in the same minute over ten ticks (150 s late).
- **Frozen start-up objects** (bot/app.py): the garbage collector's full scans of what was
  built at start paused the event loop for a send now and then.
- **Triage rules compiled at start** (bot/triage): the first message in a language held
  the event loop for a third of a second while its rules were compiled.
"""


def markdown(document: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    """The whole RESULTS.md."""
    machine = document.get("machine", {})
    lines = [
        "# Oprit benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks`); the JSON is `results.json`. "
        "Every figure is end to end: the real bot (`python -m bot run`) as a process against "
        "the loopback local Telegram (`bot/localtelegram`).",
        "",
        f"Machine: {machine.get('cpus')} CPUs ({machine.get('cpu_model')}), "
        f"{_fmt(machine.get('memory_mb'))} MB RAM, Python {machine.get('python')}; "
        f"load average at start {machine.get('load_at_start')}. "
        f"Run took {_fmt(document.get('total_seconds'))} s"
        + (" (--quick: small counts, not a measurement)." if document.get("quick") else "."),
        "",
        "## Against the targets",
        "",
    ]
    rows = headline(document, baseline)
    header = ["what", "target", *(["before"] if baseline else []), "measured", "met"]
    table = []
    for what, target, before, now, met in rows:
        verdict = "—" if met is None else ("yes" if met else "**no**")
        table.append([what, target, *([before] if baseline else []), now, verdict])
    lines.append(_table(header, table))
    if baseline:
        lines += ["", f"*before*: {baseline.get('label', 'the baseline run')}."]
    lines += ["", "## Figures", *_details(document), "", METHOD.rstrip(), "", HISTORY.rstrip()]
    notes = document.get("notes") or []
    errors = [
        f"{name}: {result['error']}"
        for name, result in document.get("results", {}).items()
        if isinstance(result, dict) and "error" in result
    ]
    if notes or errors:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in [*errors, *notes]]
    return "\n".join(lines) + "\n"
