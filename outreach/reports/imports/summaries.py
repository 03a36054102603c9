"""Summary files: one row per agency and period with its counts, checked row by row."""

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from flask_babel import format_decimal
from flask_babel import gettext as _

from outreach.clock import EARLIEST_DAY, local_today
from outreach.csvio import RowErrors, line_label
from outreach.reports.agencies import CrossesReform, Matcher
from outreach.reports.imports.cells import (
    parse_count,
    parse_date,
    parse_percent,
    parse_period,
    range_period,
)
from outreach.reports.imports.columns import FIELDS, SUMMARY_REQUIRED, Layout
from outreach.reports.imports.rows import StatRow
from outreach.reports.imports.totals import FileTotal, total_label
from outreach.reports.models import Agency


def _cell(cells: list[str], layout: Layout, name: str) -> str:
    index = layout.mapping.get(name)
    if index is None or index >= len(cells):
        return ""
    return cells[index]


def _agency(
    cells: list[str], layout: Layout, matcher: Matcher, errors: RowErrors, line: int, now, period
) -> Agency | None:
    name, code = _cell(cells, layout, "agency"), _cell(cells, layout, "agency_code")
    if not name and not code:
        errors.add(line, _("The agency is empty."))
        return None
    try:
        # The period tells which communes a name means in a province on the 2025 structure.
        return matcher.agency_for(name, code, now=now, period=period[1:] if period else None)
    except CrossesReform as exc:
        errors.add(line, str(exc))
        return None
    except ValueError:
        errors.add(line, _("“%(value)s” is not an agency name.", value=name))
        return None


def _period(cells: list[str], layout: Layout) -> tuple[str, date, date] | None:
    if "period" in layout.mapping and _cell(cells, layout, "period"):
        return parse_period(_cell(cells, layout, "period"))
    if "date_from" in layout.mapping:
        return range_period(parse_date(_cell(cells, layout, "date_from")), parse_date(_cell(cells, layout, "date_to")))
    return None


def _file_total(cells: list[str], layout: Layout, line: int) -> FileTotal | None:
    """The row as a total row, if one of its label cells (agency, code, number) says so."""
    labels = [_cell(cells, layout, "agency"), _cell(cells, layout, "agency_code")]
    if layout.number_column is not None and layout.number_column < len(cells):
        labels.append(cells[layout.number_column])
    for label in labels:
        kind = total_label(label)
        if kind is None:
            continue
        counts: dict[str, int | None] = {}
        unreadable = ""
        for name in ("total", "online"):
            text = _cell(cells, layout, name)
            try:
                counts[name] = parse_count(text) if text else None
            except ValueError:
                counts[name], unreadable = None, text
        try:
            period = _period(cells, layout)
        except ValueError:
            period = None  # a total "for the year" or "cả kỳ": the whole file's
        return FileTotal(line, label, kind, period, counts["total"], counts["online"], unreadable)
    return None


def _plausible(period: tuple[str, date, date], now: datetime) -> bool:
    """From 2015 to the end of this year: a year's or a quarter's figures may be sent before it ends."""
    _kind, start, end = period
    return start >= EARLIEST_DAY and end.year <= local_today(now).year


def _outside(now: datetime) -> str:
    first, last = f"{EARLIEST_DAY:%m/%Y}", f"12/{local_today(now).year}"
    return _("a period from %(first)s to %(last)s", first=first, last=last)


def _summary_rows(
    body: Iterable[tuple[int, list[str]]],
    layout: Layout,
    matcher: Matcher,
    errors: RowErrors,
    warnings: list[str],
    totals: list[FileTotal],
    *,
    now: datetime,
) -> Iterator[StatRow]:
    """The file's rows of figures, checked; its total rows go to ``totals`` (skipped, and said so)."""
    for line, cells in body:
        if errors.enough(line):
            errors.stop(line - 1)
            return
        if not any(cells):
            continue
        file_total = _file_total(cells, layout, line)
        if file_total is not None:
            totals.append(file_total)
            warnings.append(
                _(
                    "%(line)s: a total row (“%(label)s”), not imported: it is checked against the rows imported.",
                    line=line_label(line),
                    label=file_total.label,
                )
            )
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
            period = _period(cells, layout)
            if period is None:
                errors.add(line, _("%(column)s is empty.", column=FIELDS["period"].label))
        except ValueError as exc:
            errors.add(line, f"{FIELDS['period'].label}: {exc}")
        if period is not None and not _plausible(period, now):
            errors.add(line, f"{FIELDS['period'].label}: {_outside(now)}")
            period = None
        agency = _agency(cells, layout, matcher, errors, line, now, period)
        if errors.count > bad or agency is None or period is None:
            continue
        total, online = counts["total"], counts["online"]
        if total is None or online is None:  # required columns: an empty one was refused above
            continue
        if online > total:
            errors.add(
                line,
                _(
                    "Online (%(online)s) is more than the total (%(total)s).",
                    online=format_decimal(online),
                    total=format_decimal(total),
                ),
            )
            continue
        for name in ("fully_online", "partly_online"):
            given = counts[name]
            if given is not None and given > online:
                errors.add(
                    line,
                    _(
                        "%(column)s (%(value)s) is more than online (%(online)s).",
                        column=FIELDS[name].label,
                        value=format_decimal(given),
                        online=format_decimal(online),
                    ),
                )
        paid = counts["paid_online"]
        if paid is not None and paid > total:
            errors.add(
                line,
                _(
                    "%(column)s (%(value)s) is more than the total (%(total)s).",
                    column=FIELDS["paid_online"].label,
                    value=format_decimal(paid),
                    total=format_decimal(total),
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
            "%(line)s: the file says %(written)s but %(online)s / %(total)s is %(computed)s%%; the counts are used.",
            line=line_label(line),
            written=text,
            online=format_decimal(online),
            total=format_decimal(total),
            computed=format_decimal(round(computed, 2), format="#,##0.00"),
        )
    )
