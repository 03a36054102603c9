"""The Vietnamese catalog is complete: every source string is translated, nothing is fuzzy, and
every translation keeps the placeholders of its English source.

Reads files only (no app, no database); the extraction mirrors `make extract-messages`."""

import re
import unicodedata
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PO_FILE = ROOT / "outreach" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"
# Same keywords as the Makefile's `pybabel extract -k _l -k lazy_gettext` (on top of Babel's defaults).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# %(name)s, %(num)d, %(ratio).1f ...: the name and the conversion must both survive translation.
PLACEHOLDER = re.compile(r"%\(([^)]+)\)[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z]")
HINT = (
    "Run `make extract-messages`, then translate the new entries in outreach/translations/vi/LC_MESSAGES/messages.po."
)


@pytest.fixture(scope="module")
def catalog():
    with PO_FILE.open("rb") as f:
        return read_po(f, locale="vi")


def _messages(catalog):
    return [m for m in catalog if m.id]


def _ids(message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else (message.id,)


def _strings(message) -> tuple[str, ...]:
    return tuple(message.string) if isinstance(message.string, (list, tuple)) else (message.string,)


def _placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


def test_catalog_is_vietnamese_with_one_plural_form(catalog):
    assert str(catalog.locale) == "vi"
    assert catalog.num_plurals == 1
    assert not catalog.fuzzy, "The catalog header is marked fuzzy: pybabel compile would skip the whole file."


def test_every_message_is_translated_and_not_fuzzy(catalog):
    untranslated = [_ids(m)[0] for m in _messages(catalog) if not all(s and s.strip() for s in _strings(m))]
    fuzzy = [_ids(m)[0] for m in _messages(catalog) if m.fuzzy]
    assert not untranslated, f"{len(untranslated)} message(s) without a Vietnamese translation:\n  " + "\n  ".join(
        untranslated
    )
    assert not fuzzy, (
        f"{len(fuzzy)} fuzzy message(s) (check the translation, then remove the fuzzy flag):\n  " + "\n  ".join(fuzzy)
    )


def test_translations_keep_the_placeholders(catalog):
    wrong = []
    for m in _messages(catalog):
        expected = set().union(*(_placeholders(i) for i in _ids(m)))
        for s in _strings(m):
            if s and _placeholders(s) != expected:
                wrong.append(f"{_ids(m)[0]!r}: expected {sorted(expected)}, got {sorted(_placeholders(s))} in {s!r}")
    assert not wrong, "Placeholders changed in translation:\n  " + "\n  ".join(wrong)


def test_translations_are_nfc(catalog):
    not_nfc = [s for m in _messages(catalog) for s in _strings(m) if s and unicodedata.normalize("NFC", s) != s]
    assert not not_nfc, "Translations must be Unicode NFC (precomposed diacritics):\n  " + "\n  ".join(not_nfc)


def test_every_source_string_is_in_the_catalog(catalog):
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, filename="babel.cfg")
    missing: dict[tuple[str | None, tuple[str, ...]], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        ids = tuple(message) if isinstance(message, (list, tuple)) else (message,)
        entry = catalog.get(ids[0], context=context)
        if entry is None or _ids(entry) != ids:
            missing.setdefault((context, ids), []).append(f"{filename}:{lineno}")
    lines = [
        f"{' | '.join(ids)!r}{f' (context {ctx!r})' if ctx else ''}  ({', '.join(where)})"
        for (ctx, ids), where in missing.items()
    ]
    assert not missing, f"{len(missing)} source string(s) are not in the Vietnamese catalog. {HINT}\n  " + "\n  ".join(
        lines
    )


def test_translations_used_in_templates_have_no_bare_percent_sign(catalog):
    """Jinja's gettext always %-formats, even without variables: a lone "%" in a translation used by a
    template ("điểm %") would crash the page. Write "%%" there, or words ("điểm phần trăm")."""
    templates = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "templates").rglob("*.html"))
    bad = []
    for message in _messages(catalog):
        for source, translation in zip(_ids(message), _strings(message), strict=False):
            used = f'_("{source}"' in templates or f"_('{source}'" in templates
            if used and "%" in re.sub(r"%%|" + PLACEHOLDER.pattern, "", translation or ""):
                bad.append(f"{source!r} -> {translation!r}")
    assert not bad, "A bare % in a template's translation:\n" + "\n".join(bad)
