"""The import itself: who may import, for which province, and reading, checking and storing one file."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import gettext as _

from outreach.audit.models import ImportBatch
from outreach.audit.services import record_event, start_import
from outreach.auth.models import Role, User
from outreach.auth.scope import require_role
from outreach.csvio import RowErrors, is_xlsx, line_label, lines_left, table_rows
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Level
from outreach.reports.agencies import Matcher
from outreach.reports.imports.columns import FIELDS, KIND_DOSSIERS, read_layout
from outreach.reports.imports.dossiers import _aggregate_dossiers
from outreach.reports.imports.storing import (
    _check_overlaps_in_file,
    _insert,
    _period_text,
    _replace_current,
    _unusual_totals,
)
from outreach.reports.imports.summaries import _summary_rows
from outreach.reports.imports.totals import FileTotal, TotalCheck, TotalsMismatch, check_totals, describe
from outreach.reports.models import Agency, AgencyStatus


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
    totals: list[TotalCheck] = field(default_factory=list)  # the file's own totals against the rows imported

    def totals_said(self) -> list[tuple[bool, list[str]]]:
        """Each check of the file's totals in words, and whether it matched."""
        return [(check.matches, describe(check, _period_text)) for check in self.totals]

    # Agencies named as before 1/7/2025 and counted, through the crosswalk, in today's communes.
    former: list[Agency] = field(default_factory=list)


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
    accept_total_mismatch: bool = False,
) -> ImportResult:
    """Import a summary or a dossier list for ``province``. Every bad row is reported and nothing is kept.

    A file's own total rows are skipped and checked against the rows imported: a difference refuses the
    file (``TotalsMismatch``) unless ``accept_total_mismatch`` says a person saw it. ``actor`` None means
    the command line.
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
    file_totals: list[FileTotal] = []
    xlsx = is_xlsx(stream, filename)
    rows = table_rows(stream, filename)
    body = ((line, cells) for line, cells in rows if line > layout.header_line)
    if layout.kind == KIND_DOSSIERS:
        stats = _aggregate_dossiers(body, layout, matcher, errors, now=now)
    else:
        stats = list(_summary_rows(body, layout, matcher, errors, warnings, file_totals, now=now))
    if errors.stopped_at is not None and not xlsx:
        errors.unchecked = 1 + lines_left(stream)  # the line read when the reader stopped, and the rest
    errors.raise_if_any()
    if not stats:
        raise ValidationError({"": [_("The file has no rows of figures under its header.")]})
    db.session.flush()  # new agencies get their ids
    _check_overlaps_in_file(stats, layout.kind)
    totals = check_totals(file_totals, stats)
    if not accept_total_mismatch and not all(check.matches for check in totals):
        raise TotalsMismatch(totals, _period_text)
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
                    fully=format_decimal(row.fully_online),
                    partly=format_decimal(row.partly_online),
                    online=format_decimal(row.online),
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
        "totals": [{"matches": check.matches, "said": describe(check, _period_text)} for check in totals],
    }
    record_event(
        actor,
        "stats_imported",
        target=batch,
        detail={"file": batch.filename, "rows": len(stats), "replaced": replaced},
        now=now,
    )
    db.session.flush()
    former = [a for a in matched if a.former_unit_id is not None]
    return ImportResult(
        batch, len(stats), replaced, warnings, unresolved, matched, first, last, totals=totals, former=former
    )
