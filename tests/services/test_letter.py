"""The invite letter: a one-page PDF in the participant's language whose QR code reads
back as the invite link (rendered with PDFium, decoded with ZXing), in every language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pypdfium2
import pytest
import zxingcpp

from bot.services.letter import LetterError, invite_letter

LINK = "https://t.me/oprit_test_bot?start=AbCdEfGhIjKlMn"


def _read(pdf: bytes) -> tuple[int, str, list[str]]:
    """Pages, text and QR codes found on the first page."""
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    text = page.get_textpage().get_text_range()
    image = page.render(scale=2).to_pil()
    codes = [found.text for found in zxingcpp.read_barcodes(image)]
    return len(document), text, codes


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "Je uitnodiging"),
        ("en", "Your invite"),
        ("tr", "Telegram"),
        ("pl", "Telegram"),
        ("ar", "Telegram"),
    ],
)
def test_the_letter_carries_the_link_as_a_qr_code(language: str, expected: str) -> None:
    pdf = invite_letter(
        name="Test Deelnemer",
        language=language,
        officer="Officer Test",
        link=LINK,
        expires_at=datetime(2027, 2, 14, 9, 0, tzinfo=UTC),
        release_date=date(2027, 1, 15),
        zone=ZoneInfo("Europe/Amsterdam"),
    )
    pages, text, codes = _read(pdf)
    assert pages == 1 and codes == [LINK]
    assert "Test Deelnemer" in text and expected in text and LINK in text.replace("\n", "")


def test_a_missing_font_is_a_clear_error(tmp_path: object) -> None:
    with pytest.raises(LetterError, match="fonts-dejavu-core"):
        invite_letter(
            name="Test Deelnemer",
            language="nl",
            officer=None,
            link=LINK,
            expires_at=datetime(2027, 2, 14, tzinfo=UTC),
            release_date=None,
            zone=ZoneInfo("Europe/Amsterdam"),
            font="/nonexistent/font.ttf",
        )
