import csv
import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from outreach.auth.models import Role, User
from outreach.auth.services import find_unit
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.cli import refuse_import
from outreach.geo.models import Level
from outreach.reports import imports, services, tables
from outreach.types import utcnow

stats_cli = AppGroup("stats", help="Online-submission statistics: import, history, undo.")
report_cli = AppGroup("report", help="Reports, printed as JSON or CSV.")

# The command line acts for the whole country, as an administrator would.
_CLI = User(username="cli", role=Role.ADMIN)


def _unit(code: str):
    try:
        return find_unit(code)
    except ValidationError as exc:
        raise click.BadParameter(exc.errors["unit"][0]) from exc


@stats_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--province", "province_code", required=True, help="The province's code or name (its statistics).")
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=N",
    help="Choose a column by hand: a field (agency, period, total, online, ...) and its number, from 1.",
)
@click.option(
    "--accept-total-mismatch",
    is_flag=True,
    help="Import even though the file's own total row differs from the sum of its rows (after checking why).",
)
def import_command(path: Path, province_code: str, columns: tuple[str, ...], accept_total_mismatch: bool) -> None:
    """Import a CSV or XLSX summary or dossier list; an agency and period imported before is replaced.
    A total row of the file is checked against the rows imported, and the result printed."""
    province = _unit(province_code)
    if province.level != Level.PROVINCE:
        raise click.BadParameter(_("Statistics are imported for a whole province."), param_hint="--province")
    overrides: dict[str, int | None] = {}
    for choice in columns:
        name, _sep, number = choice.partition("=")
        if name not in imports.FIELDS or not number.isdigit() or int(number) < 1:
            raise click.BadParameter(choice, param_hint="--column")
        overrides[name] = int(number) - 1
    with path.open("rb") as stream:
        try:
            result = imports.import_statistics(
                None,
                stream,
                path.name,
                province=province,
                now=utcnow(),
                overrides=overrides,
                accept_total_mismatch=accept_total_mismatch,
            )
        except imports.TotalsMismatch as exc:
            exc.errors[""].append(_("If so, run the command again with --accept-total-mismatch."))
            refuse_import(exc)
        except ValidationError as exc:
            refuse_import(exc)
    db.session.commit()
    assert result.first is not None and result.last is not None  # an import that stands has rows
    click.echo(
        _(
            "Imported %(rows)s rows (%(replaced)s earlier rows replaced), %(first)s to %(last)s. Import number %(id)s.",
            rows=result.rows,
            replaced=result.replaced,
            first=result.first.isoformat(),
            last=result.last.isoformat(),
            id=result.batch.id,
        )
    )
    for matches, said in result.totals_said():
        click.echo(said[0] if matches else _("DIFFERENCE: %(text)s Imported as you confirmed.", text=said[0]))
        for line in said[1:]:
            click.echo(f"  {line}")
    for warning in result.warnings:
        click.echo(_("Warning: %(text)s", text=warning), err=True)
    for agency in result.unresolved:
        click.echo(_("To be matched to a unit: %(name)s", name=agency.name), err=True)
    for agency in result.former:  # named as before 1/7/2025: where its figures count today
        assert agency.former_unit is not None and agency.unit is not None
        click.echo(_("%(name)s (former) → %(unit)s", name=agency.name, unit=agency.unit.name))
        if agency.former_unit.was_split:
            units = ", ".join(u.name for u in agency.former_unit.successors)
            if agency.unit == agency.former_unit.main_successor:
                note = _(
                    "It was split between %(units)s: its figures count in %(unit)s, its main successor in the "
                    "official crosswalk; another can be chosen.",
                    units=units,
                    unit=agency.unit.name,
                )
            else:
                note = _(
                    "It was split between %(units)s: its figures count in %(unit)s, as chosen by hand.",
                    units=units,
                    unit=agency.unit.name,
                )
            click.echo(f"  {note}")


@stats_cli.command("history")
def history_command() -> None:
    """Every statistics import: number, when, file, rows, undone or not."""
    for batch in imports.import_history(_CLI, limit=1000):
        state = _("undone") if batch.undone_at else ""
        click.echo(
            f"{batch.id}\t{batch.created_at:%Y-%m-%d %H:%M}\t{batch.kind}\t{batch.filename}\t{batch.rows}\t{state}"
        )


@stats_cli.command("undo")
@click.argument("batch_id", type=int)
def undo_command(batch_id: int) -> None:
    """Undo an import: its rows go, the rows it replaced come back."""
    batch = imports.get_import(_CLI, batch_id)
    try:
        removed = imports.undo_import(_CLI, batch, now=utcnow())
    except ValidationError as exc:
        db.session.rollback()
        click.echo(exc.errors[""][0], err=True)
        sys.exit(2)
    db.session.commit()
    click.echo(
        _(
            "Import undone: %(rows)s rows of %(file)s removed, earlier figures restored.",
            rows=removed,
            file=batch.filename,
        )
    )


def impact_document(report: services.ImpactReport) -> dict:
    """The impact report as plain data: the same figures as the page."""
    header, rows = tables.impact_table(report)
    did = report.did
    return {
        "unit": {"code": report.unit.code, "name": report.unit.name, "level": report.unit.level},
        "from": report.period.first_month,
        "to": report.period.last_month,
        "outreach_start": report.outreach_start.isoformat() if report.outreach_start else None,
        "columns": header,
        "rows": rows,
        "rank_correlation": None
        if report.correlation is None
        else {"rho": report.correlation.rho, "p_value": report.correlation.p_value, "n": report.correlation.n},
        "difference_in_differences": None
        if did is None
        else {
            "estimate_points": None if did.estimate is None else round(100 * did.estimate, 4),
            "ci_low_points": None if did.ci_low is None else round(100 * did.ci_low, 4),
            "ci_high_points": None if did.ci_high is None else round(100 * did.ci_high, 4),
            "confidence": did.confidence,
            "standard_error_points": None if did.se is None else round(100 * did.se, 4),
            "df": did.df,
            "treated": did.treated.n,
            "control": did.control.n,
            "few_units": did.few_units,
            "no_interval": did.no_interval,
        },
    }


@report_cli.command("impact")
@click.option("--unit", "unit_code", required=True, help="The unit's code (or name).")
@click.option("--from", "first", default="", metavar="YYYY-MM")
@click.option("--to", "last", default="", metavar="YYYY-MM")
@click.option("--start", default="", metavar="YYYY-MM", help="When outreach began (default: the first campaign).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
def impact_command(unit_code: str, first: str, last: str, start: str, fmt: str) -> None:
    """Outreach against the online rate, per commune (or village), as on the report page."""
    unit = _unit(unit_code)
    try:
        period = services.report_period(_CLI, unit, first, last)
        began = services.parse_month(start, "start") if start else None
    except ValidationError as exc:
        raise click.BadParameter("; ".join(m for ms in exc.errors.values() for m in ms)) from exc
    report = services.impact(_CLI, unit, period, start=began)
    if fmt == "json":
        click.echo(json.dumps(impact_document(report), ensure_ascii=False, indent=2, default=str))
        return
    header, rows = tables.impact_table(report)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
