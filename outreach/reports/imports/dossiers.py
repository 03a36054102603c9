"""Dossier lists: one row per dossier, streamed and counted per agency and month."""

from collections.abc import Iterable
from datetime import date, datetime

from flask_babel import gettext as _

from outreach.clock import day_range, in_day_range
from outreach.csvio import RowErrors
from outreach.geo.models import REFORM_DATE
from outreach.reports.agencies import Matcher
from outreach.reports.imports.cells import _service_level, channel_of, month_end, parse_date
from outreach.reports.imports.columns import FIELDS, Layout
from outreach.reports.imports.rows import StatRow
from outreach.reports.models import Agency, AgencyStatus, PeriodKind
from outreach.text import fold_key


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
        if errors.enough(line):
            errors.stop(line - 1)
            break
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
            except ValueError:
                errors.add(
                    line, _("%(column)s: “%(value)s” is not a date.", column=FIELDS["received_date"].label, value=day)
                )
                continue
            if not in_day_range(parsed, now):
                first, last = (f"{bound:%d/%m/%Y}" for bound in day_range(now))
                column = FIELDS["received_date"].label
                message = _(
                    "%(column)s: “%(value)s” is not a day from %(first)s to %(last)s.",
                    column=column,
                    value=day,
                    first=first,
                    last=last,
                )
                errors.add(line, message)
                continue
            month = months[day[:10]] = (parsed.year, parsed.month)
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
    agencies: dict[tuple[str, str, bool], Agency] = {}
    for (name, code, year, month_number), (total, online, full, part, paid) in counts.items():
        # In a province on the 2025 structure, names mean the communes of their month's (before 1/7/2025 or after).
        period = (date(year, month_number, 1), month_end(year, month_number))
        era = matcher.on_2025_structure and period[0] < REFORM_DATE
        agency = agencies.get((name, code, era))
        if agency is None:
            agency = agencies[(name, code, era)] = matcher.agency_for(name, code, now=now, period=period)
        # Two spellings of one committee ("UBND phường Tân Hà", "Tân Hà") are one unit's month (before
        # the reform, one former commune's: the communes merged into a ward stay apart).
        whose = agency.counts_as if agency.status == AgencyStatus.LINKED else ("object", id(agency))
        key = (whose, year, month_number)
        row = merged.get(key)
        if row is None:
            merged[key] = StatRow(
                agency,
                PeriodKind.MONTH,
                *period,
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
