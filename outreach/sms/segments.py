"""How many SMS segments a text takes, and what it costs: GSM-7 (160 / 153 per part) when every
character is in the GSM 03.38 alphabet, otherwise UCS-2 (70 / 67), which is any Vietnamese text
with diacritics. ``static/js/sms.js`` repeats these rules for the live count in the browser."""

import math
import unicodedata
from dataclasses import dataclass

from outreach.text import unaccent

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")  # two septets each (an escape, then the character)
# Typographic characters people paste from documents, and their GSM-7 equivalents.
PLAIN_PUNCTUATION = str.maketrans(
    {"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "\u00a0": " "}
)


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int  # characters that fit in one part at this length

    @property
    def remaining(self) -> int:
        """Characters left before the next segment starts."""
        return self.segments * self.per_segment - self.characters


def is_gsm7(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text)


def count_segments(text: str) -> SegmentCount:
    """Segments of ``text`` (NFC-normalized first: a decomposed "ế" would count as three characters)."""
    text = unicodedata.normalize("NFC", text)
    if is_gsm7(text):
        length = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if length <= single:
        return SegmentCount(encoding, length, 1, single)
    return SegmentCount(encoding, length, math.ceil(length / multi), multi)


def without_diacritics(text: str) -> str:
    """The text in plain ASCII Vietnamese ("Đăng ký" -> "Dang ky"), typographic quotes and dashes made plain."""
    return unaccent(unicodedata.normalize("NFC", text)).translate(PLAIN_PUNCTUATION)
