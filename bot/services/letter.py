"""The invite letter: one A4 page in the participant's language, handed over at release,
with a QR code of the invite link, the link itself, the officer's name and what happens
next in four short steps. Many participants read poorly: big letters, short sentences.

Turkish, Polish and Arabic need a Unicode font: DejaVu Sans (Debian `fonts-dejavu-core`)
is used, and Arabic is shaped right to left by HarfBuzz.
"""

from __future__ import annotations

import io
from datetime import date, datetime, tzinfo
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from bot.i18n import _, day_label, use_language

FONT_PATHS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/local/share/fonts/DejaVuSans.ttf"),
)
QR_SIZE_MM = 70
# Direction isolates and marks help a chat app order mixed text; HarfBuzz orders the
# letter's text itself, and the font has no glyphs for them.
_INVISIBLE = str.maketrans("", "", "\u061c\u200e\u200f\u2066\u2067\u2068\u2069")


class LetterError(RuntimeError):
    """The letter cannot be made here (no usable font)."""


def _font(configured: str | None) -> Path:
    candidates = [Path(configured)] if configured else list(FONT_PATHS)
    for path in candidates:
        if path.is_file():
            return path
    raise LetterError("no Unicode font for the letter: install fonts-dejavu-core")


def _qr_png(link: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=10, border=4)
    buffer.seek(0)
    return buffer


def invite_letter(
    *,
    name: str,
    language: str,
    officer: str | None,
    link: str,
    expires_at: datetime,
    release_date: date | None,
    zone: tzinfo,
    font: str | None = None,
) -> bytes:
    """The letter as PDF bytes."""
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=False)
    pdf.add_font("letter", fname=str(_font(font)))
    pdf.set_text_shaping(True)  # fpdf2's bidi algorithm orders mixed Arabic and Latin
    pdf.add_page()
    align = "R" if language == "ar" else "L"
    with use_language(language):

        def line(text: str, size: int, gap: float = 4) -> None:
            pdf.set_font("letter", size=size)
            pdf.multi_cell(
                0,
                size * 0.5,
                text.translate(_INVISIBLE),
                align=align,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            pdf.ln(gap)

        line(_("Your invite for Oprit"), 22, 6)
        line(_("Hello {name},").format(name=name), 14)
        if officer:
            intro = _("{officer} is your officer. Oprit is the chat with your officer.")
            line(intro.format(officer=officer), 14)
        else:
            line(_("Oprit is the chat with your officer."), 14)
        if release_date is not None:
            line(_("Your release date: {date}").format(date=day_label(release_date)), 14)
        line(_("What happens next:"), 16, 2)
        steps = (
            _("1. Scan the code with the camera of your phone, or type the link."),
            _("2. Telegram opens. Tap Start."),
            _("3. Choose your language and say yes to the rules."),
            _("4. You see your first week and your plan."),
        )
        for step in steps:
            line(step, 14, 2)
        pdf.ln(4)
        x = (pdf.w - QR_SIZE_MM) / 2
        pdf.image(_qr_png(link), x=x, y=pdf.get_y(), w=QR_SIZE_MM, h=QR_SIZE_MM)
        pdf.set_y(pdf.get_y() + QR_SIZE_MM + 4)
        pdf.set_font("letter", size=11)
        pdf.multi_cell(0, 6, link, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(4)
        until = day_label(expires_at.astimezone(zone).date())
        line(
            _("The link works once, until {date}. Keep this letter to yourself.").format(
                date=until
            ),
            12,
        )
    return bytes(pdf.output())
