"""Importing online-submission statistics: a file lands whole or not at all.

Two shapes of export are read, CSV or XLSX, whatever the vendor of the province's case-handling
system: a *summary* (one row per agency and period with counts) and a *dossier list* (one row per
dossier with its received date and channel), which is streamed and aggregated into the same
monthly figures. Columns are recognised by their Vietnamese or English headers, wherever the header
row is (exports often start with a title), and can be chosen by hand.

Importing an agency and period again replaces its figures (the old row is kept, marked replaced,
so undoing the newer import brings it back).
"""

import calendar
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from outreach.audit.models import ImportBatch
from outreach.audit.services import record_event, start_import
from outreach.auth.models import Role, User
from outreach.auth.scope import require_role, unit_in_scope
from outreach.csvio import RowErrors, line_label, table_rows
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Level
from outreach.reports.agencies import Matcher
from outreach.reports.models import Agency, AgencyStatus, PeriodKind, SubmissionStat
from outreach.text import fold, fold_key

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

_CHANNELS = {
    "online": ("truc tuyen", "online", "dvc", "dich vu cong", "qua mang", "internet", "cong dvc", "nop truc tuyen"),
    "in_person": ("truc tiep", "in person", "tai quay", "mot cua", "bo phan mot cua", "nop truc tiep", "tai cho"),
    "post": ("buu chinh", "post", "buu dien", "bcci", "qua buu chinh", "mail"),
}
_CHANNEL_OF = {word: channel for channel, words in _CHANNELS.items() for word in words}


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
    rows.close()  # a generator: stop reading the file
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


# --- Cells -------------------------------------------------------------------------------------------------

_THOUSANDS = re.compile(r"^\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*$")


def parse_count(text: str) -> int:
    """A count written 170.531, 170,531, 170 531 or 170531; refused if negative or not whole."""
    value = text.replace("\u00a0", "").replace(" ", "")
    if value.startswith("-") and value[1:2].isdigit():
        raise ValueError(_("negative number “%(value)s”", value=text))
    if value.isdigit():
        return int(value)
    if _THOUSANDS.match(value):
        return int(re.sub(r"[.,]", "", value))
    raise ValueError(_("“%(value)s” is not a whole number", value=text))


def parse_percent(text: str) -> float:
    value = text.replace("%", "").replace("\u00a0", "").replace(" ", "")
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    return float(value)


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_MONTH_YEAR = re.compile(r"^(?:thang|t|month)?\s*(\d{1,2})\s*(?:[/\-.]|\s+nam\s+|\s+)\s*(\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$")
_QUARTER_YEAR = re.compile(r"^(?:quy|q|quarter)\s*(iv|i{1,3}|[1-4])\s*(?:[/\-.]|\s+nam\s+|\s+)\s*(\d{4})$")
_YEAR_QUARTER = re.compile(r"^(\d{4})\s*[-/\s]?\s*q\s*([1-4])$")
_YEAR = re.compile(r"^(?:nam|year)?\s*(\d{4})$")
_DATE_DMY = re.compile(r"^(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})")
_DATE_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY = r"\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{1,2}-\d{1,2}"
_RANGE = re.compile(rf"^(?:tu\s+)?({_DAY})\s*(?:-|–|den|to)\s*({_DAY})$")


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def parse_date(text: str) -> date:
    """A day written dd/mm/yyyy (the Vietnamese way) or yyyy-mm-dd (a spreadsheet's)."""
    value = text.strip()
    try:
        if match := _DATE_DMY.match(value):
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _DATE_YMD.match(value):
            return date(*(int(g) for g in match.groups()))
    except ValueError:
        pass  # 31/02/2024: said below in the reader's words
    raise ValueError(_("“%(value)s” is not a date", value=text))


def parse_period(text: str) -> tuple[str, date, date]:
    """A month (09/2023, 2023-09, Tháng 9/2023), a quarter (Q3/2023, Quý III/2023), a year, or a range of days."""
    value = fold(text).strip()
    try:
        if match := _MONTH_YEAR.match(value):
            month, year = int(match[1]), int(match[2])
            return PeriodKind.MONTH, date(year, month, 1), month_end(year, month)
        if match := _YEAR_MONTH.match(value):
            year, month = int(match[1]), int(match[2])
            return PeriodKind.MONTH, date(year, month, 1), month_end(year, month)
        quarter = None
        if match := _QUARTER_YEAR.match(value):
            quarter, year = _ROMAN.get(match[1]) or int(match[1]), int(match[2])
        elif match := _YEAR_QUARTER.match(value):
            year, quarter = int(match[1]), int(match[2])
        if quarter:
            first = 3 * (quarter - 1) + 1
            return PeriodKind.QUARTER, date(year, first, 1), month_end(year, first + 2)
        if match := _YEAR.match(value):
            year = int(match[1])
            return PeriodKind.YEAR, date(year, 1, 1), date(year, 12, 31)
        if (match := _DATE_YMD.fullmatch(value)) or (match := _DATE_DMY.fullmatch(value)):
            day = parse_date(value)
            if day.day == 1:  # a spreadsheet's "month" cell is the first day of the month
                return PeriodKind.MONTH, day, month_end(day.year, day.month)
        if match := _RANGE.match(value):
            return range_period(parse_date(match[1]), parse_date(match[2]))
    except ValueError:
        pass
    raise ValueError(
        _("“%(value)s” is not a period: write a month (09/2023), a quarter (Q3/2023) or dates", value=text)
    )


def range_period(start: date, end: date) -> tuple[str, date, date]:
    if end < start:
        raise ValueError(_("the period ends before it starts"))
    if start.day == 1 and end == month_end(end.year, end.month):
        if (start.year, start.month) == (end.year, end.month):
            return PeriodKind.MONTH, start, end
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if months == 3 and start.month in (1, 4, 7, 10):
            return PeriodKind.QUARTER, start, end
        if months == 12 and start.month == 1:
            return PeriodKind.YEAR, start, end
    return PeriodKind.RANGE, start, end


def _is_total_row(name: str, code: str = "") -> bool:
    """A total or subtotal line ("Tổng cộng", "Tổng cấp xã", "Cộng", "Toàn tỉnh"), in the name or the code
    column: totals are computed here, so importing one would count its agencies twice."""
    for text in (name, code):
        key = fold_key(text)
        if not key:
            continue
        if key.startswith(("tong cuc", "tong cong ty")):  # a general department or a corporation: an agency
            return False
        if key.split()[0] in ("tong", "cong", "total", "subtotal") or key in ("toan tinh", "grand total"):
            return True
        if key.startswith(("toan tinh ", "cap xa", "cap huyen", "cap tinh")):
            return True
    return False


# --- The import --------------------------------------------------------------------------------------------


@dataclass
class StatRow:
    agency: Agency
    kind: str
    start: date
    end: date
    total: int
    online: int
    fully_online: int | None = None
    partly_online: int | None = None
    paid_online: int | None = None
    line: int = 0


@dataclass
class ImportResult:
    batch: ImportBatch
    rows: int
    replaced: int
    warnings: list[str]
    unresolved: list[Agency]
    matched: list[Agency]
    first: date | None
    last: date | None


def may_import(actor: User) -> bool:
    """Province staff and administrators import a province's statistics."""
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.STAFF and actor.scope_unit is not None and actor.scope_unit.level == Level.PROVINCE


def import_province(actor: User, unit_id: int | None) -> AdminUnit:
    """The province whose statistics are imported: the actor's own, or the one an admin chose."""
    require_role(actor, Role.STAFF)
    if actor.role == Role.ADMIN:
        if unit_id is None:
            raise ValidationError({"": [_("Choose the province whose statistics these are.")]})
        unit = db.session.get(AdminUnit, unit_id)
    else:
        unit = actor.scope_unit
    if unit is None or unit.level != Level.PROVINCE:
        raise ValidationError(
            {"": [_("Statistics are imported for a whole province, by its staff or an administrator.")]}
        )
    return unit


def import_statistics(
    actor: User | None,
    stream: BinaryIO,
    filename: str,
    *,
    province: AdminUnit,
    now: datetime,
    overrides: dict[str, int | None] | None = None,
) -> ImportResult:
    """Import a summary or a dossier list for ``province``. Every bad row is reported and nothing is kept.

    ``actor`` None means the command line.
    """
    layout = read_layout(stream, filename, overrides=overrides)
    missing = layout.missing()
    if missing:
        raise ValidationError(
            {
                line_label(layout.header_line): [
                    _(
                        "Columns not found: %(columns)s. Found: %(found)s. Choose them by hand.",
                        columns=", ".join(str(FIELDS[m].label) for m in missing),
                        found=", ".join(h for h in layout.header if h) or "-",
                    )
                ]
            }
        )
    batch = start_import(actor, layout.kind, stream, filename, now=now, unit_id=province.id)
    matcher = Matcher(province)
    errors = RowErrors()
    warnings: list[str] = []
    rows = table_rows(stream, filename)
    body = ((line, cells) for line, cells in rows if line > layout.header_line)
    if layout.kind == KIND_DOSSIERS:
        stats = _aggregate_dossiers(body, layout, matcher, errors, now=now)
    else:
        stats = list(_summary_rows(body, layout, matcher, errors, warnings, now=now))
    errors.raise_if_any()
    if not stats:
        raise ValidationError({"": [_("The file has no rows of figures under its header.")]})
    db.session.flush()  # new agencies get their ids
    _check_overlaps_in_file(stats, layout.kind)
    warnings.extend(_unusual_totals(stats))
    replaced = _replace_current(stats, batch)
    _insert(stats, batch)
    if len(stats) > 1000 and db.session.get_bind().dialect.name == "postgresql":
        # A first big import leaves the planner guessing "1 row" until autovacuum runs; reports
        # right after it would choose nested loops over thousands of rows.
        db.session.execute(sa.text("ANALYZE submission_stat"))
    for row in stats:
        if (
            row.fully_online is not None
            and row.partly_online is not None
            and row.fully_online + row.partly_online != row.online
        ):
            warnings.append(
                _(
                    "%(line)s: fully online (%(fully)s) and partly online (%(partly)s) "
                    "do not add up to online (%(online)s).",
                    line=line_label(row.line) if row.line else row.agency.name,
                    fully=row.fully_online,
                    partly=row.partly_online,
                    online=row.online,
                )
            )
    agencies = {row.agency.id: row.agency for row in stats}
    unresolved = sorted((a for a in agencies.values() if a.status == AgencyStatus.UNRESOLVED), key=lambda a: a.name)
    matched = sorted((a for a in agencies.values() if a.status == AgencyStatus.LINKED), key=lambda a: a.name)
    first, last = min(r.start for r in stats), max(r.end for r in stats)
    batch.rows = len(stats)
    batch.detail = {
        "columns": {name: layout.header[index] for name, index in layout.mapping.items()},
        "header_line": layout.header_line,
        "replaced": replaced,
        "agencies": len(agencies),
        "unresolved": [a.id for a in unresolved],
        "warnings": warnings[:200],
        "first": first.isoformat(),
        "last": last.isoformat(),
    }
    record_event(
        actor,
        "stats_imported",
        target=batch,
        detail={"file": batch.filename, "rows": len(stats), "replaced": replaced},
        now=now,
    )
    db.session.flush()
    return ImportResult(batch, len(stats), replaced, warnings, unresolved, matched, first, last)


def _cell(cells: list[str], layout: Layout, name: str) -> str:
    index = layout.mapping.get(name)
    if index is None or index >= len(cells):
        return ""
    return cells[index]


def _agency(cells: list[str], layout: Layout, matcher: Matcher, errors: RowErrors, line: int, now) -> Agency | None:
    name, code = _cell(cells, layout, "agency"), _cell(cells, layout, "agency_code")
    if not name and not code:
        errors.add(line, _("The agency is empty."))
        return None
    try:
        return matcher.agency_for(name, code, now=now)
    except ValueError:
        errors.add(line, _("“%(value)s” is not an agency name.", value=name))
        return None


def _summary_rows(
    body: Iterable[tuple[int, list[str]]],
    layout: Layout,
    matcher: Matcher,
    errors: RowErrors,
    warnings: list[str],
    *,
    now: datetime,
) -> Iterator[StatRow]:
    for line, cells in body:
        if not any(cells):
            continue
        if _is_total_row(_cell(cells, layout, "agency"), _cell(cells, layout, "agency_code")):
            warnings.append(_("%(line)s: a total row, not imported (totals are computed).", line=line_label(line)))
            continue
        bad = errors.count
        counts: dict[str, int | None] = {}
        for name in ("total", "online", "fully_online", "partly_online", "paid_online"):
            text = _cell(cells, layout, name)
            if not text:
                if name in SUMMARY_REQUIRED:
                    errors.add(line, _("%(column)s is empty.", column=FIELDS[name].label))
                counts[name] = None
                continue
            try:
                counts[name] = parse_count(text)
            except ValueError as exc:
                errors.add(line, f"{FIELDS[name].label}: {exc}")
        period = None
        try:
            if "period" in layout.mapping and _cell(cells, layout, "period"):
                period = parse_period(_cell(cells, layout, "period"))
            elif "date_from" in layout.mapping:
                period = range_period(
                    parse_date(_cell(cells, layout, "date_from")), parse_date(_cell(cells, layout, "date_to"))
                )
            else:
                errors.add(line, _("%(column)s is empty.", column=FIELDS["period"].label))
        except ValueError as exc:
            errors.add(line, f"{FIELDS['period'].label}: {exc}")
        agency = _agency(cells, layout, matcher, errors, line, now)
        if errors.count > bad or agency is None or period is None:
            continue
        total, online = counts["total"], counts["online"]
        if online > total:
            errors.add(line, _("Online (%(online)s) is more than the total (%(total)s).", online=online, total=total))
            continue
        for name in ("fully_online", "partly_online"):
            if counts[name] is not None and counts[name] > online:
                errors.add(
                    line,
                    _(
                        "%(column)s (%(value)s) is more than online (%(online)s).",
                        column=FIELDS[name].label,
                        value=counts[name],
                        online=online,
                    ),
                )
        if counts["paid_online"] is not None and counts["paid_online"] > total:
            errors.add(
                line,
                _(
                    "%(column)s (%(value)s) is more than the total (%(total)s).",
                    column=FIELDS["paid_online"].label,
                    value=counts["paid_online"],
                    total=total,
                ),
            )
        if errors.count > bad:
            continue
        rate_text = _cell(cells, layout, "rate")
        if rate_text and total:
            _check_rate(rate_text, online, total, line, warnings)
        kind, start, end = period
        yield StatRow(
            agency,
            kind,
            start,
            end,
            total,
            online,
            counts["fully_online"],
            counts["partly_online"],
            counts["paid_online"],
            line,
        )


def _check_rate(text: str, online: int, total: int, line: int, warnings: list[str]) -> None:
    computed = 100 * online / total
    try:
        written = parse_percent(text)
    except ValueError:
        warnings.append(
            _("%(line)s: the rate “%(value)s” is not a number; the counts are used.", line=line_label(line), value=text)
        )
        return
    if abs(written - computed) <= 0.1 or abs(written * 100 - computed) <= 0.1:
        return
    warnings.append(
        _(
            "%(line)s: the file says %(written)s but %(online)s / %(total)s is %(computed).2f%%; the counts are used.",
            line=line_label(line),
            written=text,
            online=online,
            total=total,
            computed=computed,
        )
    )


def channel_of(text: str) -> str | None:
    key = fold_key(text)
    if key in _CHANNEL_OF:
        return _CHANNEL_OF[key]
    if key.startswith(("khong ", "not ", "non ", "chua ")):  # "Không trực tuyến": received some other way
        return "in_person"
    for word, channel in _CHANNEL_OF.items():
        if f" {word} " in f" {key} ":
            return channel
    return None


def _service_level(text: str) -> str | None:
    """Fully online ("toàn trình", "mức độ 4") or partly ("một phần", "mức độ 3"), else unknown."""
    key = fold_key(text)
    if "toan trinh" in key or key in ("4", "muc do 4", "md4", "muc 4", "dvc muc do 4", "level 4", "fully online"):
        return "full"
    if "mot phan" in key or key in ("3", "muc do 3", "md3", "muc 3", "dvc muc do 3", "level 3", "partly online"):
        return "part"
    return None


def _aggregate_dossiers(
    body: Iterable[tuple[int, list[str]]], layout: Layout, matcher: Matcher, errors: RowErrors, *, now: datetime
) -> list[StatRow]:
    """One pass over the dossiers, keeping only a running count per agency and month (memory grows with
    agencies x months, never with dossiers)."""
    counts: dict[tuple[str, str, int, int], list[int]] = {}
    months: dict[str, tuple[int, int]] = {}  # the same day is written on thousands of rows
    channels: dict[str, str | None] = {}
    levels: dict[str, str | None] = {}
    i_agency, i_code = layout.mapping.get("agency"), layout.mapping.get("agency_code")
    i_date, i_channel = layout.mapping["received_date"], layout.mapping["channel"]
    i_level, i_paid = layout.mapping.get("service_level"), layout.mapping.get("paid_online")
    for line, cells in body:
        width = len(cells)
        if not any(cells):
            continue
        name = cells[i_agency] if i_agency is not None and i_agency < width else ""
        code = cells[i_code] if i_code is not None and i_code < width else ""
        if not name and not code:
            errors.add(line, _("The agency is empty."))
            continue
        day = cells[i_date] if i_date < width else ""
        month = months.get(day[:10])
        if month is None:
            try:
                parsed = parse_date(day[:10])
                month = months[day[:10]] = (parsed.year, parsed.month)
            except ValueError:
                errors.add(
                    line, _("%(column)s: “%(value)s” is not a date.", column=FIELDS["received_date"].label, value=day)
                )
                continue
        text = cells[i_channel] if i_channel < width else ""
        if text in channels:
            channel = channels[text]
        else:
            channel = channels[text] = channel_of(text)
        if channel is None:
            errors.add(
                line,
                _(
                    "%(column)s: “%(value)s” is not online, in person or post.",
                    column=FIELDS["channel"].label,
                    value=text,
                ),
            )
            continue
        entry = counts.get((name, code, *month))
        if entry is None:
            entry = counts[(name, code, *month)] = [0, 0, 0, 0, 0]
        entry[0] += 1
        if channel == "online":
            entry[1] += 1
            if i_level is not None and i_level < width:
                level_text = cells[i_level]
                if level_text not in levels:
                    levels[level_text] = _service_level(level_text)
                level = levels[level_text]
                if level == "full":
                    entry[2] += 1
                elif level == "part":
                    entry[3] += 1
        if (
            i_paid is not None
            and i_paid < width
            and fold_key(cells[i_paid]) in ("1", "x", "co", "yes", "da thanh toan", "true")
        ):
            entry[4] += 1
    if errors:
        return []
    # The split is known only if the file said it for some dossiers; else "no data", never zeros.
    split_known = any(levels.values())
    merged: dict[tuple[object, int, int], StatRow] = {}
    agencies: dict[tuple[str, str], Agency] = {}
    for (name, code, year, month), (total, online, full, part, paid) in counts.items():
        agency = agencies.get((name, code))
        if agency is None:
            agency = agencies[(name, code)] = matcher.agency_for(name, code, now=now)
        # Two spellings of one committee ("UBND phường Tân Hà", "Tân Hà") are one unit's month.
        whose = ("unit", agency.unit_id) if agency.status == AgencyStatus.LINKED else ("object", id(agency))
        key = (whose, year, month)
        row = merged.get(key)
        if row is None:
            merged[key] = StatRow(
                agency,
                PeriodKind.MONTH,
                date(year, month, 1),
                month_end(year, month),
                total,
                online,
                full if split_known else None,
                part if split_known else None,
                paid if i_paid is not None else None,
            )
        else:  # two spellings of one agency
            row.total += total
            row.online += online
            for attr, value in (("fully_online", full), ("partly_online", part), ("paid_online", paid)):
                if getattr(row, attr) is not None:
                    setattr(row, attr, getattr(row, attr) + value)
    return sorted(merged.values(), key=lambda r: (r.agency.name, r.start))


def slot(agency: Agency) -> tuple[str, int]:
    """Whose figures a row is: a unit's (its committee, however the file spells it) or an unlinked agency's.
    Two spellings of one commune's committee must never both count for the same month."""
    if agency.status == AgencyStatus.LINKED:
        return ("unit", agency.unit_id)
    return ("agency", agency.id)


def _check_overlaps_in_file(stats: list[StatRow], kind: str) -> None:
    errors = RowErrors()
    seen: dict[tuple[str, int], list[StatRow]] = {}
    for row in sorted(stats, key=lambda r: (slot(r.agency), r.line)):
        for other in seen.get(slot(row.agency), []):
            if (row.start, row.end) == (other.start, other.end) and row.line and other.line:
                errors.add(
                    row.line,
                    _(
                        "%(agency)s appears twice for the same period (also %(other)s). If these are two units "
                        "of the same name, write the district after the name (“%(agency)s, huyện …”) or add "
                        "an agency code column.",
                        agency=row.agency.name,
                        other=line_label(other.line),
                    ),
                )
            elif row.start <= other.end and other.start <= row.end:
                errors.add(
                    row.line,
                    _(
                        "%(agency)s: this period overlaps %(other)s of the same agency (counted twice).",
                        agency=row.agency.name,
                        other=line_label(other.line),
                    ),
                )
        seen.setdefault(slot(row.agency), []).append(row)
    errors.raise_if_any()


def _unusual_totals(stats: list[StatRow]) -> list[str]:
    """Months far from an agency's usual (five times more or less than its average month so far):
    imported, since a real month can be unusual, but said so, next to the button that undoes the import."""
    months = [row for row in stats if row.kind == PeriodKind.MONTH]
    if not months:
        return []
    usual = dict(
        db.session.execute(
            sa.select(SubmissionStat.agency_id, sa.func.avg(SubmissionStat.total))
            .where(
                SubmissionStat.agency_id.in_({row.agency.id for row in months}),
                SubmissionStat.period_kind == PeriodKind.MONTH,
                SubmissionStat.replaced_by_batch_id.is_(None),
            )
            .group_by(SubmissionStat.agency_id)
        ).all()
    )
    warnings = []
    for row in months:
        average = float(usual.get(row.agency.id) or 0)
        if average >= 20 and (row.total > 5 * average or 5 * row.total < average):
            warnings.append(
                _(
                    "%(line)s: %(total)s dossiers for %(agency)s in %(month)s, where a month is usually about "
                    "%(usual)s: check the figure.",
                    line=line_label(row.line) if row.line else row.agency.name,
                    total=format_decimal(row.total),
                    agency=row.agency.name,
                    month=row.start.strftime("%m/%Y"),
                    usual=format_decimal(round(average)),
                )
            )
    return warnings


def _replace_current(stats: list[StatRow], batch: ImportBatch) -> int:
    """Mark replaced every current row of the same agency (or of any agency linked to the same unit)
    for the same period. A different period that overlaps (a quarter over imported months) is refused:
    mixing them would silently drop months from reports."""
    agency_ids = {row.agency.id for row in stats}
    unit_ids = {row.agency.unit_id for row in stats if row.agency.status == AgencyStatus.LINKED}
    first, last = min(r.start for r in stats), max(r.end for r in stats)
    current = db.session.execute(
        sa.select(
            SubmissionStat.id,
            Agency.id,
            Agency.status,
            Agency.unit_id,
            SubmissionStat.period_start,
            SubmissionStat.period_end,
            SubmissionStat.period_kind,
            ImportBatch.filename,
        )
        .join(Agency, Agency.id == SubmissionStat.agency_id)
        .join(ImportBatch, ImportBatch.id == SubmissionStat.batch_id)
        .where(
            sa.or_(
                SubmissionStat.agency_id.in_(agency_ids),
                sa.and_(Agency.unit_id.in_(unit_ids), Agency.status == AgencyStatus.LINKED),
            ),
            SubmissionStat.replaced_by_batch_id.is_(None),
            SubmissionStat.period_start <= last,
            SubmissionStat.period_end >= first,
        )
    ).all()
    by_slot: dict[tuple[str, int], list[StatRow]] = {}
    for row in stats:
        by_slot.setdefault(slot(row.agency), []).append(row)
    replaced, errors = [], RowErrors()
    for stat_id, agency_id, status, unit_id, start, end, kind, filename in current:
        key = ("unit", unit_id) if status == AgencyStatus.LINKED else ("agency", agency_id)
        for new in by_slot.get(key, []):
            if (new.start, new.end) == (start, end):
                replaced.append(stat_id)
            elif start <= new.end and new.start <= end:
                errors.add(
                    new.line,
                    _(
                        "%(agency)s: %(period)s overlaps figures already imported for %(other)s (file %(file)s). "
                        "Import the same periods as before, or undo that import first.",
                        agency=new.agency.name,
                        period=_period_text(new.kind, new.start, new.end),
                        other=_period_text(kind, start, end),
                        file=filename,
                    ),
                )
    errors.raise_if_any()
    for chunk in range(0, len(replaced), 1000):
        db.session.execute(
            sa.update(SubmissionStat)
            .where(SubmissionStat.id.in_(replaced[chunk : chunk + 1000]))
            .values(replaced_by_batch_id=batch.id)
        )
    db.session.flush()
    return len(replaced)


def _period_text(kind: str, start: date, end: date) -> str:
    if kind == PeriodKind.MONTH:
        return start.strftime("%m/%Y")
    if kind == PeriodKind.QUARTER:
        return _("Q%(q)s/%(year)s", q=(start.month - 1) // 3 + 1, year=start.year)
    if kind == PeriodKind.YEAR:
        return str(start.year)
    return f"{start:%d/%m/%Y}–{end:%d/%m/%Y}"


def _insert(stats: list[StatRow], batch: ImportBatch) -> None:
    values = [
        {
            "agency_id": row.agency.id,
            "period_kind": str(row.kind),
            "period_start": row.start,
            "period_end": row.end,
            "total": row.total,
            "online": row.online,
            "fully_online": row.fully_online,
            "partly_online": row.partly_online,
            "paid_online": row.paid_online,
            "batch_id": batch.id,
            "source_line": row.line,
            "replaced_by_batch_id": None,
        }
        for row in stats
    ]
    for chunk in range(0, len(values), 2000):
        db.session.execute(sa.insert(SubmissionStat), values[chunk : chunk + 2000])


# --- History and undo -------------------------------------------------------------------------------------


def import_history(actor: User, *, limit: int = 100) -> list[ImportBatch]:
    """Statistics imports the actor may see, newest first (undone ones included, marked)."""
    require_role(actor, Role.STAFF, Role.LEADER)
    stmt = (
        sa.select(ImportBatch)
        .join(AdminUnit, AdminUnit.id == ImportBatch.unit_id)
        .where(ImportBatch.kind.in_(IMPORT_KINDS), unit_in_scope(actor))
        .order_by(ImportBatch.created_at.desc(), ImportBatch.id.desc())
        .limit(limit)
    )
    if actor.role != Role.ADMIN:
        # Only province-wide users see a province's imports (its files name every agency).
        stmt = stmt.where(AdminUnit.id == actor.scope_unit_id)
    return list(db.session.scalars(stmt))


def get_import(actor: User, batch_id: int) -> ImportBatch:
    """One import of the history, if the actor may see it."""
    require_role(actor, Role.STAFF, Role.LEADER)
    stmt = (
        sa.select(ImportBatch)
        .join(AdminUnit, AdminUnit.id == ImportBatch.unit_id)
        .where(ImportBatch.id == batch_id, ImportBatch.kind.in_(IMPORT_KINDS), unit_in_scope(actor))
    )
    if actor.role != Role.ADMIN:
        stmt = stmt.where(AdminUnit.id == actor.scope_unit_id)
    batch = db.session.scalar(stmt)
    if batch is None:
        raise NotFound(batch_id)
    return batch


def undo_import(actor: User, batch: ImportBatch, *, now: datetime) -> int:
    """Remove an import's figures and bring back those it replaced. Refused while a later import
    replaced some of its figures (undo that one first), so history never tangles."""
    require_role(actor, Role.STAFF)
    if batch.undone_at is not None:
        raise ValidationError({"": [_("This import was already undone.")]})
    later = db.session.scalar(
        sa.select(ImportBatch)
        .join(SubmissionStat, SubmissionStat.replaced_by_batch_id == ImportBatch.id)
        .where(SubmissionStat.batch_id == batch.id)
        .limit(1)
    )
    if later is not None:
        raise ValidationError(
            {
                "": [
                    _(
                        "Some of these figures were replaced by a later import (%(name)s); undo that one first.",
                        name=later.filename,
                    )
                ]
            }
        )
    removed = db.session.execute(sa.delete(SubmissionStat).where(SubmissionStat.batch_id == batch.id)).rowcount
    restored = db.session.execute(
        sa.update(SubmissionStat)
        .where(SubmissionStat.replaced_by_batch_id == batch.id)
        .values(replaced_by_batch_id=None)
    ).rowcount
    batch.undone_at, batch.undone_by_id = now, actor.id
    record_event(
        actor,
        "stats_undone",
        target=batch,
        detail={"file": batch.filename, "rows": removed, "restored": restored},
        now=now,
    )
    db.session.flush()
    return removed
