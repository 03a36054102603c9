"""Vietnamese text: one normalizer and one diacritic folder, used everywhere."""

import re
import unicodedata

_SPACES = re.compile(r"[\s\x00]+")  # a NUL (a broken export) is no text anyone meant, and PostgreSQL refuses it
_NUMBERS = re.compile(r"\d+")


def clean(value: str | None) -> str:
    """NFC-normalize and collapse whitespace (NUL counts as one); ``None`` becomes an empty string."""
    if value is None:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(value))).strip()


def _unaccent_each(text: str) -> str:
    """``unaccent`` the general way, character by character (any script)."""
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in text if unicodedata.category(ch) != "Mn"))


# The Latin letters with marks (Vietnamese uses 134 of them) and the combining marks themselves, each
# mapped to what _unaccent_each makes of it: one str.translate does in C what the loop does in Python.
_LATIN_MARKED = (*range(0x00C0, 0x0250), *range(0x0300, 0x0370), *range(0x1E00, 0x1F00))
_WITHOUT_MARKS = {code: folded for code in _LATIN_MARKED if (folded := _unaccent_each(chr(code))) != chr(code)}


def unaccent(value: str | None) -> str:
    """Vietnamese without diacritics, case and punctuation kept: "Đội Cấn" -> "Doi Can" (đ -> d)."""
    text = unicodedata.normalize("NFC", value or "")
    if not text.isascii():
        text = text.translate(_WITHOUT_MARKS)
        if not text.isascii():  # another script (Greek, Cyrillic ...): the general way
            text = _unaccent_each(text)
    return text


def fold(value: str | None) -> str:
    """Lower-case ASCII form for searching: "Tân Hà" and "tan ha" fold alike (đ -> d)."""
    return unaccent(clean(value)).lower()


def sort_key(value: str | None) -> str:
    """Folded text with numbers zero-padded, so "Tổ 2" sorts before "Tổ 10" and "Bạch Xa" before "Bình Xa"."""
    return _NUMBERS.sub(lambda m: m.group().zfill(8), fold(value))[:120]


def fold_key(value: str | None) -> str:
    """Folded text reduced to letters and digits separated by single spaces (for header matching)."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(value)))


# Tone marks (not the marks that make a letter: â, ă, ê, ô, ơ, ư).
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")


def spelling(value: str | None) -> str:
    """Lower-case text as written, diacritics kept, each word's tone mark moved to its end: the old and
    new placements ("Hoà", "Hòa"; "Thuỷ", "Thủy") compare equal, "Thành" and "Thanh" do not."""
    out = []
    for word in clean(value).lower().split():
        decomposed = unicodedata.normalize("NFD", word)
        tones = "".join(ch for ch in decomposed if ch in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))
        out.append(base + tones)
    return " ".join(out)
