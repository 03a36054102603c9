"""Recognising a file's columns: the fields, the header row and which column holds which field."""

import re
from dataclasses import dataclass, field
from typing import BinaryIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from outreach.csvio import line_label, table_rows
from outreach.errors import ValidationError
from outreach.text import fold_key

KIND_SUMMARY = "stats"
KIND_DOSSIERS = "dossiers"
IMPORT_KINDS = (KIND_SUMMARY, KIND_DOSSIERS)


@dataclass(frozen=True)
class Field:
    name: str
    label: object  # lazy string shown on the mapping page
    exact: tuple[str, ...]  # header spellings, folded ("tong so ho so")
    contains: tuple[str, ...] = ()  # words that give the column away inside a longer vendor header


# Order matters for "contains": the most specific first ("toan trinh" before "truc tuyen").
FIELDS = {
    "agency_code": Field(
        "agency_code",
        _l("Agency code"),
        ("ma don vi", "ma co quan", "ma dvtn", "ma don vi tiep nhan", "agency code", "unit code", "ma"),
        ("ma don vi", "ma co quan", "agency code"),
    ),
    "agency": Field(
        "agency",
        _l("Receiving agency"),
        ("co quan", "don vi", "ten don vi", "ten co quan", "don vi tiep nhan", "co quan tiep nhan", "agency", "unit"),
        ("don vi", "co quan", "agency"),
    ),
    "fully_online": Field(
        "fully_online",
        _l("Fully online (toàn trình)"),
        ("toan trinh", "truc tuyen toan trinh", "ho so toan trinh", "fully online"),
        ("toan trinh", "fully online"),
    ),
    "partly_online": Field(
        "partly_online",
        _l("Partly online (một phần)"),
        ("mot phan", "truc tuyen mot phan", "ho so mot phan", "partly online", "partially online"),
        ("mot phan", "partly online", "partially online"),
    ),
    "paid_online": Field(
        "paid_online",
        _l("Paid online"),
        ("thanh toan truc tuyen", "da thanh toan truc tuyen", "paid online", "online payment"),
        ("thanh toan", "paid", "payment"),
    ),
    "rate": Field(
        "rate",
        _l("Online rate (%), checked only"),
        ("ty le", "ti le", "ty le truc tuyen", "ty le ho so truc tuyen", "online rate", "rate", "percent"),
        ("ty le", "ti le", "rate", "percent"),
    ),
    "received_date": Field(
        "received_date",
        _l("Received date (dossier list)"),
        ("ngay tiep nhan", "ngay nhan", "thoi gian tiep nhan", "ngay nop", "received date", "received", "date"),
        ("ngay tiep nhan", "ngay nhan", "ngay nop", "received date"),
    ),
    "channel": Field(
        "channel",
        _l("Channel (dossier list)"),
        ("kenh", "kenh tiep nhan", "hinh thuc", "hinh thuc nop", "hinh thuc tiep nhan", "channel"),
        ("kenh", "hinh thuc nop", "hinh thuc tiep nhan", "channel"),
    ),
    "service_level": Field(
        "service_level",
        _l("Online level (dossier list)"),
        ("muc do", "muc do dvc", "loai dvc", "service level"),
        ("muc do",),
    ),
    "online": Field(
        "online",
        _l("Dossiers received online"),
        ("truc tuyen", "ho so truc tuyen", "tiep nhan truc tuyen", "so ho so truc tuyen", "online", "received online"),
        ("truc tuyen", "online"),
    ),
    "total": Field(
        "total",
        _l("Total dossiers received"),
        ("tong so", "tong so ho so", "tong ho so", "tong so ho so tiep nhan", "ho so tiep nhan", "total", "received"),
        ("tong", "total"),
    ),
    "date_from": Field(
        "date_from",
        _l("From date"),
        ("tu ngay", "from", "from date", "start date", "ngay bat dau"),
        ("tu ngay", "from date"),
    ),
    "date_to": Field(
        "date_to",
        _l("To date"),
        ("den ngay", "to", "to date", "end date", "ngay ket thuc"),
        ("den ngay", "to date"),
    ),
    "period": Field(
        "period",
        _l("Period (month, quarter or year)"),
        ("ky", "ky bao cao", "thang", "quy", "nam", "thoi gian", "period", "month", "quarter", "year"),
        ("ky bao cao", "thang", "quy", "period", "month", "quarter"),
    ),
}
# The mapping page's order: what every file needs first, then the optional figures, then dossier lists'.
MAPPING_ORDER = (
    "agency",
    "agency_code",
    "period",
    "date_from",
    "date_to",
    "total",
    "online",
    "fully_online",
    "partly_online",
    "paid_online",
    "rate",
    "received_date",
    "channel",
    "service_level",
)
SUMMARY_REQUIRED = ("total", "online")
DOSSIER_REQUIRED = ("received_date", "channel")
HEADER_SCAN_ROWS = 30
# The row number column ("STT"): not a figure, but where some files write "Tổng cộng" on a total row.
NUMBER_HEADERS = ("stt", "tt", "so tt", "so thu tu", "thu tu", "no", "number")


def _header_key(text: str) -> str:
    """A header without diacritics, case, punctuation, units or notes in brackets."""
    return fold_key(re.sub(r"\(.*?\)|\[.*?\]", " ", text))


def recognise(header: list[str]) -> dict[str, int]:
    """Which column holds which field, by header name: exact spellings first, then telling words."""
    keys = [_header_key(h) for h in header]
    found: dict[str, int] = {}
    taken: set[int] = set()
    for name, spec in FIELDS.items():
        for index, key in enumerate(keys):
            if index not in taken and key in spec.exact:
                found[name] = index
                taken.add(index)
                break
    for name, spec in FIELDS.items():
        if name in found:
            continue
        for index, key in enumerate(keys):
            if index not in taken and key and any(f" {word} " in f" {key} " for word in spec.contains):
                found[name] = index
                taken.add(index)
                break
    return found


def file_kind(mapping: dict[str, int]) -> str:
    """A dossier list has dates and channels and no counts; anything else is a summary."""
    if all(f in mapping for f in DOSSIER_REQUIRED) and "total" not in mapping:
        return KIND_DOSSIERS
    return KIND_SUMMARY


@dataclass
class Layout:
    """Where the data is in a file: its header line, the columns of each field, and the kind of file."""

    header_line: int
    header: list[str]
    mapping: dict[str, int]
    kind: str
    sample: list[list[str]] = field(default_factory=list)

    @property
    def number_column(self) -> int | None:
        for index, text in enumerate(self.header):
            if _header_key(text) in NUMBER_HEADERS and index not in self.mapping.values():
                return index
        return None

    def missing(self) -> list[str]:
        needed = list(DOSSIER_REQUIRED if self.kind == KIND_DOSSIERS else SUMMARY_REQUIRED)
        if "agency" not in self.mapping and "agency_code" not in self.mapping:
            needed.insert(0, "agency")
        if (
            self.kind == KIND_SUMMARY
            and "period" not in self.mapping
            and not ("date_from" in self.mapping and "date_to" in self.mapping)
        ):
            needed.append("period")
        return [name for name in needed if name not in self.mapping]


def read_layout(stream: BinaryIO, filename: str, *, overrides: dict[str, int | None] | None = None) -> Layout:
    """Find the header row (the first of the top rows naming most fields) and the columns.

    ``overrides`` are a person's choices on the mapping page: field -> column index, or None to ignore.
    """
    scanned: list[tuple[int, list[str]]] = []
    rows = table_rows(stream, filename)
    for line, cells in rows:
        if any(cells):
            scanned.append((line, cells))
        if len(scanned) >= HEADER_SCAN_ROWS + 5:
            break
    close = getattr(rows, "close", None)
    if close is not None:
        close()  # a generator: stop reading the file
    stream.seek(0)
    if not scanned:
        raise ValidationError({line_label(1): [_("The file is empty.")]})
    candidates = [(len(recognise(cells)), -index) for index, (_line, cells) in enumerate(scanned[:HEADER_SCAN_ROWS])]
    count, position = max(candidates)
    position = -position
    if count < 2:  # nothing recognisable: the first row is the header, for a person to map by hand
        position = 0
    line, header = scanned[position]
    mapping = recognise(header)
    sample = [cells for _line, cells in scanned[position + 1 : position + 6]]
    for name, index in (overrides or {}).items():
        if name not in FIELDS:
            continue
        mapping.pop(name, None)
        if index is not None and 0 <= index < len(header):
            for other, used in list(mapping.items()):
                if used == index:
                    del mapping[other]
            mapping[name] = index
    return Layout(line, header, mapping, file_kind(mapping), sample)
