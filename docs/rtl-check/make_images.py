"""Render Arabic bot messages as chat bubbles to PNG, to check right-to-left reading.

Run from the repository root (needs chromium and fonts-noto-core, fonts-noto-color-emoji;
Pillow only for trimming the white margin, from any virtualenv):

    .venv/bin/python docs/rtl-check/make_images.py /tmp/rtl-html
    for f in /tmp/rtl-html/*.html; do chromium --headless --no-sandbox --disable-gpu \\
      --disable-background-networking --disable-component-update --disable-sync \\
      --no-first-run --hide-scrollbars --window-size=900,2400 --force-device-scale-factor=1.5 \\
      --screenshot=docs/rtl-check/$(basename "$f" .html).png "$f"; done
    /tmp/pilvenv/bin/python docs/rtl-check/make_images.py --trim docs/rtl-check/*.png

and, for a check that does not depend on reading the images by eye:

    .venv/bin/python docs/rtl-check/make_images.py --order /tmp/rtl-html/order.html
    chromium --headless --no-sandbox --disable-gpu --dump-dom /tmp/rtl-html/order.html \\
      > /tmp/rtl-html/order.out
    .venv/bin/python docs/rtl-check/make_images.py --summary /tmp/rtl-html/order.out

which lays every sample out again (as sent, and with the marks removed) and reports, for
each number, code, /command and Latin name, whether its characters still run left to right
on one line, and whether each line with Arabic in it is laid out right to left (first character
rightmost).

Each bubble is a `dir="auto"` paragraph with `unicode-bidi: plaintext`, so every line gets
its direction from its own first strong character, as the Unicode bidi algorithm does for
plain text. The left column is the text as the bot sends it; the right column is the same
text with the isolates (U+2068/U+2069) and Arabic Letter Marks (U+061C) removed.
"""

from __future__ import annotations

import html
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

FSI, PDI, ALM = "\u2068", "\u2069", "\u061c"
ZONE = ZoneInfo("Europe/Amsterdam")

CSS = """
body { margin: 0; padding: 16px; background: #fff; width: 868px;
       font-family: 'Noto Sans', 'Noto Sans Arabic', 'Noto Color Emoji', sans-serif; }
h1 { font-size: 15px; margin: 0 0 10px; color: #222; }
.cols { display: flex; gap: 16px; }
.col { width: 426px; background: #dfe9d9; padding: 10px; border-radius: 8px; }
.col h2 { font: 12px monospace; margin: 0 0 8px; color: #555; }
.bubble { background: #fff; border-radius: 10px; padding: 8px 11px; margin: 0 0 6px;
          font-size: 15px; line-height: 1.45; white-space: pre-wrap;
          unicode-bidi: plaintext; text-align: start; }
.row { display: flex; gap: 4px; margin: 0 0 4px; }
.btn { flex: 1; background: #7fa87a; color: #fff; border-radius: 6px; padding: 6px 4px;
       font-size: 13.5px; text-align: center; unicode-bidi: plaintext; white-space: nowrap;
       overflow: hidden; text-overflow: ellipsis; }
.gap { height: 10px; }
"""


def _bubble(text: str) -> str:
    return f'<div class="bubble" dir="auto">{html.escape(text)}</div>'


def _buttons(rows: list[list[str]]) -> str:
    out = []
    for row in rows:
        cells = "".join(f'<div class="btn" dir="auto">{html.escape(b)}</div>' for b in row)
        out.append(f'<div class="row">{cells}</div>')
    return "".join(out)


def _column(title: str, items: list[tuple[str, object]], strip: bool) -> str:
    def clean(text: str) -> str:
        return text.replace(FSI, "").replace(PDI, "").replace(ALM, "") if strip else text

    parts = [f"<h2>{html.escape(title)}</h2>"]
    for kind, value in items:
        if kind == "text":
            parts.append(_bubble(clean(str(value))))
        elif kind == "buttons":
            rows = [[clean(label) for label in row] for row in value]  # type: ignore[attr-defined]
            parts.append(_buttons(rows))
        else:
            parts.append('<div class="gap"></div>')
    return f'<div class="col">{"".join(parts)}</div>'


def _page(title: str, items: list[tuple[str, object]]) -> str:
    left = _column("as sent (with isolates)", items, strip=False)
    right = _column("same text, isolates and marks removed", items, strip=True)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><style>{CSS}</style></head>'
        f'<body><h1>{html.escape(title)}</h1><div class="cols">{left}{right}</div></body></html>'
    )


Items = list[tuple[str, object]]


def samples() -> dict[str, tuple[str, Items]]:
    """The sample messages, composed by the bot's own code in Arabic."""
    from bot.services.appointments import confirm_choices, reminder_reply
    from bot.i18n import _, ngettext, timestamp, use_language, when
    from bot.services.labels import (
        HELP_DOMAINS,
        domain_label,
        help_reference,
        help_status_label,
        mood_label,
    )
    from bot.conversation.replies import participant_keyboard_labels

    at = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # 14:00 in Amsterdam
    appointment = SimpleNamespace(
        id=42,
        at=at,
        with_org="Reclassering Nederland",
        location="Stationsplein 12, Utrecht",
        note=None,
    )
    out: dict[str, tuple[str, Items]] = {}
    with use_language("ar"):
        keyboard = participant_keyboard_labels()
        out["1-consent"] = (
            "Consent text (registration) with Agree / Not now",
            [
                ("text", _("Welcome! 👋 I am Oprit, the chat of your re-integration officer.")),
                (
                    "text",
                    _(
                        "Before we start, this is what happens with your messages:\n"
                        "• Everything you send here is saved, and your officer can read it.\n"
                        "• Only your officer and their team see it. We lock (encrypt) the "
                        "text.\n"
                        "• We delete it after 2 years, or earlier if you ask.\n"
                        "• You can stop at any time with /stop.\n"
                        "\n"
                        "Do you agree?"
                    ),
                ),
                ("buttons", [[_("👍 Agree"), _("Not now")]]),
            ],
        )
        reference = help_reference(42)
        out["2-help-request"] = (
            "Help request: confirmation with reference H-0042, status updates, open list",
            [
                (
                    "text",
                    _(
                        "Sent to your officer. Your reference is {reference}. I will tell you "
                        "when your officer picks it up."
                    ).format(reference=reference),
                ),
                (
                    "text",
                    _("Your officer has picked up your request {reference}.").format(
                        reference=reference
                    ),
                ),
                ("text", _("Your request {reference} is resolved. ✅").format(reference=reference)),
                (
                    "text",
                    "\n".join(
                        [
                            _("Your open requests:"),
                            f"• {reference} {domain_label('housing')}: {help_status_label('open')}",
                            f"• {help_reference(7)} {domain_label('money')}: "
                            f"{help_status_label('acknowledged')}",
                        ]
                    ),
                ),
            ],
        )
        reminder = reminder_reply(appointment, ZONE)  # type: ignore[arg-type]
        out["3-reminder"] = (
            "Appointment reminder: date/time, Latin organisation and address, buttons",
            [
                ("text", reminder.text),
                ("buttons", [[c.label for c in row] for row in confirm_choices(appointment)]),  # type: ignore[arg-type]
                ("buttons", [[_("📆 Add to calendar")]]),
            ],
        )
        safety_self = _(
            "I am worried about you, and I am glad you wrote this. You are not alone.\n"
            "Talk to someone now: call 113 or 0800-0113 (free, day and night).\n"
            "In danger right now? Call 112.\n"
            "Your officer has been told and will contact you."
        )
        safety_others = _(
            "Please keep yourself and others safe. If someone is in danger, call 112 now.\n"
            "Need to talk to someone? Call 113 or 0800-0113 (free, day and night).\n"
            "Your officer has been told and will contact you."
        )
        out["4-safety"] = (
            "Safety replies: 113, 0800-0113 and 112",
            [("text", safety_self), ("text", safety_others)],
        )
        domains = [domain_label(d) for d in HELP_DOMAINS]
        out["5-buttons"] = (
            "Buttons: persistent keyboard, help domains, moods, officer paging",
            [
                ("buttons", [[keyboard["checkin"], keyboard["help"]]]),
                ("buttons", [[keyboard["appointments"], keyboard["language"]]]),
                ("gap", None),
                ("text", _("What do you need help with?")),
                ("buttons", [domains[i : i + 2] for i in range(0, len(domains), 2)]),
                ("buttons", [[_("Cancel")]]),
                ("gap", None),
                ("text", _("How are you doing?")),
                ("buttons", [[mood_label(m) for m in ("good", "okay", "bad")]]),
                ("gap", None),
                ("text", _("Participants, page {page} of {pages}:").format(page=2, pages=5)),
                ("buttons", [[_("◀ Previous"), _("Next ▶")]]),
            ],
        )
        out["6-privacy-help"] = (
            "/privacy and /help: a number of days and /commands inside Arabic",
            [
                (
                    "text",
                    _(
                        "What we save: everything you send here, your check-ins, help requests "
                        "and appointments.\n"
                        "Who sees it: only your officer and their team.\n"
                        "How long: {days} days, then we delete it. The text is locked "
                        "(encrypted).\n"
                        "Stop: send /stop. Want to see your data? Tap the button."
                    ).format(days=730),
                ),
                ("buttons", [[_("📦 Send me my data")]]),
                (
                    "text",
                    _(
                        "✅ Check-in: tell us how you are doing.\n"
                        "🆘 I need help: ask your officer for help.\n"
                        "📅 My appointments: see when and where.\n"
                        "✍️ Or just write. Your officer reads along. /privacy: what we save."
                    ),
                ),
            ],
        )
        down_since = datetime(2026, 12, 3, 8, 5, tzinfo=UTC)
        out["7-latin-first"] = (
            "Officer side: a Latin name first, times, counts, example dates",
            [
                (
                    "text",
                    _("{name}. Which date? (like 7-12 or 2026-12-07)").format(
                        name="Kevin de Vries"
                    ),
                ),
                (
                    "text",
                    _("Planned: {name}, {when}. Reminders: {count}.").format(
                        name="Kevin de Vries", when=when(at, ZONE), count=2
                    ),
                ),
                (
                    "text",
                    ngettext(
                        "Oprit was down from {since} until {until}. "
                        "{count} message arrived meanwhile.",
                        "Oprit was down from {since} until {until}. "
                        "{count} messages arrived meanwhile.",
                        12,
                    ).format(
                        since=timestamp(down_since, ZONE), until=timestamp(at, ZONE), count=12
                    ),
                ),
                ("text", _("Type the date and time like 7-12 14:00.")),
                (
                    "text",
                    _("Plan this appointment?\n{name}\n{when}\nWith: {org}\nWhere: {place}").format(
                        name="Kevin de Vries",
                        when=when(at, ZONE),
                        org="Reclassering Nederland",
                        place="Stationsplein 12, Utrecht",
                    ),
                ),
            ],
        )
    return out


TOKENS = re.compile(
    r"0800-0113|11[23]|H-\d{4}|/[a-z]+|\d{4}-\d\d-\d\d|\d+-\d+ \d\d:\d\d|\d+-\d+"
    r"|\d?\d:\d\d(?::\d\d)?|\d+|Kevin de Vries|Reclassering Nederland|Stationsplein"
    r"|Oprit|DigiD"
)
ORDER_SCRIPT = """<script>
const out = [];
for (const div of document.querySelectorAll('.bubble')) {
  const node = div.firstChild;
  for (const [start, tok] of JSON.parse(div.dataset.tokens)) {
    const xs = [], ys = [];
    for (let i = start; i < start + tok.length; i++) {
      if (tok[i - start] === ' ') continue;
      const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
      const b = r.getBoundingClientRect(); xs.push(b.left); ys.push(Math.round(b.top));
    }
    const ok = ys.every(y => y === ys[0]) && xs.every((x, k) => k === 0 || x > xs[k - 1]);
    out.push([div.dataset.variant, tok, ok]);
  }
  let offset = 0;
  for (const line of node.textContent.split('\\n')) {
    const xs = [];
    for (let i = offset; i < offset + line.length; i++) {
      const ch = line[i - offset];
      if (!ch.trim() || /[\\u061c\\u2068\\u2069\\udc00-\\udfff]/.test(ch)) continue;
      const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
      xs.push(r.getBoundingClientRect().left);
    }
    if (xs.length > 1 && /[\\u0620-\\u064a]/.test(line)) {
      out.push([div.dataset.variant, line, xs[0] > xs[xs.length - 1] ? 'rtl' : 'ltr']);
    }
    offset += line.length + 1;
  }
}
document.body.innerHTML = '<pre id="result">' + JSON.stringify(out) + '</pre>';
</script>"""


def _strip(text: str) -> str:
    return text.replace(FSI, "").replace(PDI, "").replace(ALM, "")


def order_page() -> str:
    """Every sample bubble twice, with the offsets (UTF-16) of the tokens to check."""
    bubbles = []
    for _title, items in samples().values():
        for kind, value in items:
            if kind != "text":
                continue
            for variant, text in (("as sent", str(value)), ("marks removed", _strip(str(value)))):
                tokens = [
                    [len(text[: m.start()].encode("utf-16-le")) // 2, m.group(0)]
                    for m in TOKENS.finditer(text)
                ]
                bubbles.append(
                    f'<div class="bubble" dir="auto" style="width:400px" data-variant="{variant}"'
                    f" data-tokens='{html.escape(json.dumps(tokens))}'>{html.escape(text)}</div>"
                )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><style>{CSS}</style></head>'
        f"<body>{''.join(bubbles)}{ORDER_SCRIPT}</body></html>"
    )


def summary(dump: str) -> None:
    """Print what the --order page found, from chromium's --dump-dom output."""
    found = re.search(r'<pre id="result">(.*)</pre>', dump, re.S)
    assert found, "no result in the dumped page"
    results = json.loads(html.unescape(found.group(1)))
    for variant in ("as sent", "marks removed"):
        tokens = [(tok, ok) for v, tok, ok in results if v == variant and isinstance(ok, bool)]
        lines = [(line, d) for v, line, d in results if v == variant and d in ("rtl", "ltr")]
        wrong = sorted({tok for tok, ok in tokens if not ok})
        ltr = [_strip(line) for line, d in lines if d == "ltr"]
        print(f"{variant}: {len(tokens)} tokens, out of order: {wrong}")
        print(f"  {len(lines)} lines with Arabic, laid out left to right: {ltr}")


def trim(paths: list[str]) -> None:
    """Cut the white margin below the content (needs Pillow)."""
    from PIL import Image, ImageChops

    for name in paths:
        image = Image.open(name).convert("RGB")
        background = Image.new("RGB", image.size, (255, 255, 255))
        box = ImageChops.difference(image, background).getbbox()
        if box:
            image = image.crop((0, 0, image.width, min(image.height, box[3] + 16)))
        image.save(name, optimize=True)


def main() -> None:
    if sys.argv[1:2] == ["--trim"]:
        trim(sys.argv[2:])
        return
    if sys.argv[1:2] == ["--summary"]:
        summary(Path(sys.argv[2]).read_text(encoding="utf-8"))
        return
    if sys.argv[1:2] == ["--order"]:
        Path(sys.argv[2]).write_text(order_page(), encoding="utf-8")
        return
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    for name, (title, items) in samples().items():
        (folder / f"{name}.html").write_text(_page(title, items), encoding="utf-8")


if __name__ == "__main__":
    main()
