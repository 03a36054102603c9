"""Storing a file's figures: overlaps in the file, unusual totals, replacing current figures, inserting."""

from datetime import date

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import gettext as _

from outreach.audit.models import ImportBatch
from outreach.csvio import RowErrors, line_label
from outreach.extensions import db
from outreach.reports.imports.rows import StatRow
from outreach.reports.models import Agency, AgencyStatus, PeriodKind, SubmissionStat, figures_owner


def slot(agency: Agency) -> tuple[str, int | None]:
    """Whose figures a row is: a unit's (its committee, however the file spells it), a former commune's,
    or an unlinked agency's. Two spellings of one commune's committee must never both count for the same month."""
    return agency.counts_as


def _check_overlaps_in_file(stats: list[StatRow], kind: str) -> None:
    errors = RowErrors()
    seen: dict[tuple[str, int | None], list[StatRow]] = {}
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
    usual: dict[int, float] = dict(
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
            Agency.former_unit_id,
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
    by_slot: dict[tuple[str, int | None], list[StatRow]] = {}
    for row in stats:
        by_slot.setdefault(slot(row.agency), []).append(row)
    replaced, errors = [], RowErrors()
    for stat_id, agency_id, status, unit_id, former_id, start, end, kind, filename in current:
        key = figures_owner(status, unit_id, former_id, agency_id)
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
