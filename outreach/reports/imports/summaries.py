"""Summary files: one row per agency and period with its counts, checked row by row."""

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from flask_babel import gettext as _

from outreach.clock import EARLIEST_DAY, local_today
from outreach.csvio import RowErrors, line_label
from outreach.reports.agencies import Matcher
from outreach.reports.imports.cells import (
    _is_total_row,
    parse_count,
    parse_date,
    parse_percent,
    parse_period,
    range_period,
)
from outreach.reports.imports.columns import FIELDS, SUMMARY_REQUIRED, Layout
from outreach.reports.imports.rows import StatRow
from outreach.reports.models import Agency


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
        if period is not None and not _plausible(period, now):
            errors.add(line, f"{FIELDS['period'].label}: {_outside(now)}")
            period = None
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
