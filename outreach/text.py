"""Vietnamese text: one normalizer and one diacritic folder, used everywhere."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NUMBERS = re.compile(r"\d+")


def clean(value: str | None) -> str:
    """NFC-normalize and collapse whitespace; ``None`` becomes an empty string."""
    if value is None:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(value))).strip()


def fold(value: str | None) -> str:
    """Lower-case ASCII form for searching: "Tân Hà" and "tan ha" fold alike (đ -> d)."""
    text = unicodedata.normalize("NFD", clean(value).replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()


def sort_key(value: str | None) -> str:
    """Folded text with numbers zero-padded, so "Tổ 2" sorts before "Tổ 10" and "Bạch Xa" before "Bình Xa"."""
    return _NUMBERS.sub(lambda m: m.group().zfill(8), fold(value))[:120]


def fold_key(value: str | None) -> str:
    """Folded text reduced to letters and digits separated by single spaces (for header matching)."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(value)))
