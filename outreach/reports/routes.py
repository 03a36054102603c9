import io
from datetime import date, timedelta
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from outreach.auth.models import Role
from outreach.auth.scope import get_unit, require_role
from outreach.auth.services import example_commune, find_unit
from outreach.csvio import write_csv, write_xlsx
from outreach.errors import Forbidden, ValidationError
from outreach.extensions import ListPage, db
from outreach.forms import show_form_errors
from outreach.geo.models import REFORM_DATE, AdminUnit, Level
from outreach.labels import AGENCY_STATUS_LABELS, EXCLUSION_LABELS, PERIOD_KIND_LABELS
from outreach.reports import agencies as agency_services
from outreach.reports import charts, imports, services, tables, targets
from outreach.reports.forms import MappingForm, ResolveAgencyForm, StatsImportForm, TargetForm, UndoForm
from outreach.reports.tables import (
    figures_text,
    format_points,
    part_text,
    parts_note,
    pct,
    period_label,
    points_abs,
    points_short,
)
from outreach.requests.services import help_figures
from outreach.types import utcnow

reports_bp = Blueprint("reports", __name__, url_prefix="/reports")


@reports_bp.before_request
@login_required
def allowed():
    require_role(current_user, Role.STAFF, Role.LEADER)


# --- How figures read ----------------------------------------------------------------------------------------


reports_bp.add_app_template_filter(format_points, "points")
reports_bp.add_app_template_filter(points_abs, "points_abs")
reports_bp.add_app_template_filter(points_short, "points_short")
reports_bp.add_app_template_global(imports.may_import, "may_import_statistics")
reports_bp.add_app_template_filter(pct, "pct")
reports_bp.add_app_template_filter(date.fromisoformat, "iso_day")
reports_bp.add_app_template_filter(figures_text, "figures")
reports_bp.add_app_template_filter(part_text, "part")
reports_bp.add_app_template_filter(parts_note, "parts_note")
reports_bp.add_app_template_filter(
    lambda row: period_label(row.period_start, row.period_end, row.period_kind), "period"
)
reports_bp.add_app_template_filter(period_label, "period_of")


@reports_bp.app_template_filter("merge_args")
def merge_args(args, **changes) -> str:
    """The page's query string with some parameters changed (links to exports and the print view)."""
    merged = {
        key: value for key, value in args.items() if key not in changes and key not in ("format", "table", "print")
    }
    merged.update({key: value for key, value in changes.items() if value is not None})
    return urlencode(merged)


def _export(name: str, unit: AdminUnit, header: list[str], rows: list[list]) -> Response:
    fmt = request.args.get("format")
    stem = f"outreach-{name}-{unit.code}"
    if fmt == "xlsx":
        book = io.BytesIO()
        write_xlsx(header, rows, book, sheet_title=name)
        return Response(
            book.getvalue(),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        )
    out = io.StringIO()
    # For Excel set to Vietnamese (decimal comma, list separator ";"), the way it opens CSV files there.
    write_csv(header, rows, out, decimal_comma=str(get_locale()).startswith("vi"))
    return Response(
        out.getvalue().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
    )


def _period(unit: AdminUnit) -> services.Period:
    try:
        return services.report_period(current_user, unit, request.args.get("from", ""), request.args.get("to", ""))
    except ValidationError as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return services.report_period(current_user, unit)


# --- Online rates ----------------------------------------------------------------------------------------------


@reports_bp.get("/")
def index():
    if current_user.scope_unit_id:
        return redirect(url_for("reports.unit", unit_id=current_user.scope_unit_id))
    provinces = list(
        db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == Level.PROVINCE).order_by(AdminUnit.sort_key))
    )
    having = services.provinces_with_figures(current_user)
    with_stats = [p for p in provinces if p.id in having]
    if len(with_stats) == 1:
        return redirect(url_for("reports.unit", unit_id=with_stats[0].id))
    return render_template("reports/index.html", provinces=with_stats or provinces)


@reports_bp.get("/units/<int:unit_id>")
def unit(unit_id: int):
    """The online rate of a unit and its parts, its ranking, its trend and its agencies."""
    unit = get_unit(current_user, unit_id)
    period = _period(unit)
    report = services.online_rates(current_user, unit, period)
    target = targets.target_for(unit)
    ranks = unit.level in (Level.PROVINCE, Level.DISTRICT)
    ranked = services.ranking(current_user, unit, period, target=target.share) if ranks else []
    by_gap = request.args.get("rank") == "gap"
    ranked_table = services.ranking(current_user, unit, period, target=target.share, by_gap=True) if by_gap else ranked
    points_ = services.trend(current_user, unit, period)
    table = request.args.get("table")
    if request.args.get("format") in ("csv", "xlsx") and table in ("rates", "ranking", "trend", "agencies", "periods"):
        built = tables.unit_table(table, current_user, unit, period, report, ranked_table if ranks else ranked, points_)
        if built is None:
            abort(404)
        return _export(table, unit, *built)
    return render_template(
        "reports/unit.html",
        unit=unit,
        period=period,
        report=report,
        ranked=ranked,
        trend=points_,
        trend_chart=_trend_chart(unit, points_, target),
        ranking_charts=_ranking_charts(ranked),
        ranked_table=ranked_table,
        by_gap=by_gap,
        target=target,
        gap=targets.gap_to_target(report.total.rate, target.share),
        volume=targets.recent_volume(points_),
        may_set_target=targets.may_set_target(current_user, unit),
        print_view=request.args.get("print") == "1",
        status_labels=AGENCY_STATUS_LABELS,
    )


def _trend_chart(unit: AdminUnit, points_: list[services.TrendPoint], target: targets.Target | None = None):
    if not points_:
        return None
    labels = [period_label(p.start, p.end, p.kind) for p in points_]
    series = charts.Series(
        unit.name,
        [p.figures.rate for p in points_],
        [f"{label}: {figures_text(p.figures)}" for label, p in zip(labels, points_, strict=True)],
    )
    # The reform of 1/7/2025, at the first period that holds it or follows it: before it the figures
    # are the former communes' (added up on today's).
    reform = next((i for i, p in enumerate(points_) if p.end >= REFORM_DATE), None)
    reform = reform if reform else None  # not when every period is after it
    return charts.line_chart(
        [series],
        marker_index=reform,
        marker_label=_("Communes merged (1/7/2025)") if reform is not None else "",
        title=_("Online rate of %(unit)s by period", unit=unit.name),
        desc=_(
            "Share of dossiers received online in each period; "
            "each point's counts are in its tooltip and in the table below."
        ),
        y_label=_("Online rate"),
        x_labels=labels,
        y_format=lambda v: pct(v, 0),
        target=target.share if target else None,
        target_label=_("Target %(target)s", target=pct(target.share, 0)) if target else "",
    )


def _ranking_charts(ranked: list[services.RankedUnit]):
    if not ranked:
        return None
    if len(ranked) < 4:
        return None  # the table says it all
    count = min(10, len(ranked) // 2)  # never the same commune in both charts

    def bars(rows):
        return [
            charts.Bar(f"{r.rank}. {r.unit.name}", r.figures.rate, f"{r.unit.name}: {figures_text(r.figures)}")
            for r in rows
        ]

    top = charts.bar_ranking(
        bars(ranked[:count]),
        title=_("Highest online rates"),
        desc=_("The %(n)s communes with the highest share of dossiers received online.", n=count),
        value_format=pct,
        no_data_label=_("no data"),
    )
    bottom = charts.bar_ranking(
        bars(list(reversed(ranked))[:count]),
        title=_("Lowest online rates"),
        desc=_("The %(n)s communes with the lowest share of dossiers received online.", n=count),
        value_format=pct,
        no_data_label=_("no data"),
    )
    return top, bottom


@reports_bp.route("/units/<int:unit_id>/target", methods=["GET", "POST"])
def target(unit_id: int):
    """A province's target for the online rate and the day it is due (province staff, administrators)."""
    unit = get_unit(current_user, unit_id)
    if not targets.may_set_target(current_user, unit):
        raise Forbidden(current_user.role)
    current = targets.target_for(unit)
    form = TargetForm(data={"target_pct": current.pct, "due_on": current.due_on})
    if form.validate_on_submit():
        value = float(form.target_pct.data)
        try:
            targets.set_target(current_user, unit, pct=value, due_on=form.due_on.data, now=utcnow())
        except ValidationError as exc:
            db.session.rollback()
            show_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Target saved: %(target)s.", target=pct(value / 100, 2)), "success")
            return redirect(url_for("reports.unit", unit_id=unit.id))
    return render_template("reports/target.html", unit=unit, form=form, current=current)


# --- Outreach against outcome ------------------------------------------------------------------------------


@reports_bp.get("/units/<int:unit_id>/impact")
def impact(unit_id: int):
    unit = get_unit(current_user, unit_id)
    period = _period(unit)
    start = None
    if request.args.get("start"):
        try:
            start = services.parse_month(request.args["start"], "start")
        except ValidationError as exc:
            flash(exc.errors["start"][0], "error")
    report = services.impact(current_user, unit, period, start=start)
    if request.args.get("format") in ("csv", "xlsx"):
        table = request.args.get("table", "impact")
        return _export(table, unit, *tables.impact_table(report, table))
    return render_template(
        "reports/impact.html",
        unit=unit,
        period=period,
        report=report,
        scatter=_scatter(report),
        print_view=request.args.get("print") == "1",
        exclusion_labels=EXCLUSION_LABELS,
        help=help_figures(unit),
    )


def _scatter(report: services.ImpactReport):
    pts = [
        charts.Point(
            r.visited_share,
            r.change,
            r.unit.short_name or r.unit.name,
            _(
                "%(unit)s: %(visited)s / %(households)s households visited; "
                "online rate %(before)s before, %(after)s after",
                unit=r.unit.name,
                visited=format_decimal(r.visited),
                households=format_decimal(r.households),
                before=figures_text(r.before),
                after=figures_text(r.after),
            ),
        )
        for r in report.commune_rows
        if r.visited_share is not None and r.change is not None
    ]
    if len(pts) < 2 or report.level == Level.VILLAGE:
        return None
    return charts.scatter_chart(
        pts,
        title=_("Households visited and change in online rate"),
        desc=_(
            "Each point is a commune: across, the share of its households visited; "
            "up, the change in its online rate since outreach began."
        ),
        x_label=_("Households visited"),
        y_label=_("Change in online rate (points)"),
        x_format=lambda v: pct(v, 0),
        y_format=lambda v: format_decimal(round(100 * v, 1)),
    )


# --- Agencies ------------------------------------------------------------------------------------------------------


AGENCIES_PER_PAGE = 50


@reports_bp.get("/agencies")
def agencies():
    status = request.args.get("status", "")
    status = status if status in AGENCY_STATUS_LABELS else ""
    rows = ListPage(
        agency_services.list_agencies(current_user, status=status),
        request.args.get("page", 1, type=int),
        AGENCIES_PER_PAGE,
    )
    candidates = agency_services.candidates_by_agency([a for a in rows if a.status == "unresolved"])
    return render_template(
        "reports/agencies.html",
        agencies=rows,
        candidates=candidates,
        status=status,
        status_labels=AGENCY_STATUS_LABELS,
        form=ResolveAgencyForm(),
    )


@reports_bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
def agency(agency_id: int):
    """An agency's figures row by row (the file and line each came from), and its link to a unit."""
    agency = agency_services.get_agency(current_user, agency_id)
    form = ResolveAgencyForm()
    if form.validate_on_submit():
        if not imports.may_import(current_user):
            raise Forbidden(current_user.role)
        try:
            unit_id, former_id = form.unit_id.data, form.former_id.data
            if form.unit.data:
                # A name before 1/7/2025 is a former commune's, when one is written ("Phường Tân Hà", "02216").
                former = agency_services.find_former(agency, form.unit.data) if agency.before_reform else None
                unit_id, former_id = (None, former.id) if former is not None else (find_unit(form.unit.data).id, None)
            agency_services.resolve_agency(
                current_user,
                agency,
                unit_id=unit_id,
                former_id=former_id,
                not_a_unit=form.not_a_unit.data,
                now=utcnow(),
            )
        except ValidationError as exc:
            db.session.rollback()
            for messages in exc.errors.values():
                for message in messages:
                    flash(message, "error")
        else:
            db.session.commit()
            flash(_("Saved: %(agency)s.", agency=agency.name), "success")
            back = request.form.get("next", "")
            if not back.startswith("/reports/") or back.startswith("//"):  # only back to a page of ours
                back = url_for("reports.agency", agency_id=agency.id)
            return redirect(back)
    rows = services.agency_rows(current_user, agency)
    return render_template(
        "reports/agency.html",
        agency=agency,
        rows=rows,
        candidates=agency_services.candidates_of(agency),
        form=form,
        status_labels=AGENCY_STATUS_LABELS,
        kind_labels=PERIOD_KIND_LABELS,
    )


# --- Imports ---------------------------------------------------------------------------------------------------------


def _lifetime() -> timedelta:
    return timedelta(hours=current_app.config["PENDING_UPLOAD_HOURS"])


def _province_choices() -> list[tuple[int, str]]:
    if current_user.role == Role.ADMIN:
        return [
            (p.id, p.name)
            for p in db.session.scalars(
                sa.select(AdminUnit)
                .where(AdminUnit.level == Level.PROVINCE)
                .order_by(AdminUnit.dataset, AdminUnit.sort_key)
            )
        ]
    unit = current_user.scope_unit
    return [(unit.id, unit.name)] if unit is not None and unit.level == Level.PROVINCE else []


def _overrides(header_size: int) -> dict[str, int | None]:
    chosen: dict[str, int | None] = {}
    for name in imports.FIELDS:
        value = request.form.get(f"col_{name}")
        if value is None:
            continue
        chosen[name] = int(value) if value.isdigit() and int(value) < header_size else None
    return chosen


@reports_bp.route("/imports", methods=["GET", "POST"])
def imports_page():
    """Upload a statistics file; when its columns are not all recognised, choose them by hand; when its
    own total does not match its rows, confirm the difference or fix the file."""
    if not imports.may_import(current_user):
        raise Forbidden(current_user.role)
    form = StatsImportForm()
    form.province.choices = _province_choices()
    errors = result = layout = mismatch = None
    mapping_form = MappingForm()
    status = 200
    if request.method == "POST" and request.form.get("upload"):
        # The second step: the file kept in the database (whichever server received it) with the
        # columns a person chose, or with the difference from the file's own total confirmed.
        if not mapping_form.validate_on_submit():
            return redirect(url_for("reports.imports_page"))
        try:
            pending = imports.find_upload(current_user, mapping_form.upload.data, now=utcnow())
        except imports.UploadExpired as exc:
            db.session.commit()  # it is removed
            flash(exc.errors[""][0], "error")
            return redirect(url_for("reports.imports_page"))
        if pending is None:
            flash(_("The uploaded file is gone; upload it again."), "error")
            return redirect(url_for("reports.imports_page"))
        if mapping_form.cancel.data:
            imports.discard_upload(current_user, pending)
            db.session.commit()
            flash(_("Import cancelled: the uploaded file %(file)s was removed.", file=pending.filename), "success")
            return redirect(url_for("reports.imports_page"))
        filename = pending.filename
        province_id = int(mapping_form.province.data) if (mapping_form.province.data or "").isdigit() else None
        stream = io.BytesIO(pending.content)
        layout = imports.read_layout(stream, filename)
        overrides = _overrides(len(layout.header))
        result, errors, layout, mismatch = _run_import(
            stream,
            filename,
            province_id,
            overrides,
            accept_total_mismatch=mapping_form.accept_total_mismatch.data,
            pending=pending,
        )
        if result is None:
            mapping_form.filename.data = filename
    elif form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or "upload.csv"
        stream = upload.stream  # spooled to a temporary file by Werkzeug: read as a stream, never whole
        result, errors, layout, mismatch = _run_import(stream, filename, form.province.data, None)
        if layout is not None and (layout.missing() or mismatch):
            # Kept in the database for the second step, where a person chooses the columns or confirms.
            stream.seek(0)
            try:
                pending = imports.keep_upload(
                    current_user,
                    stream,
                    filename,
                    now=utcnow(),
                    lifetime=_lifetime(),
                    limit=current_app.config["MAX_CONTENT_LENGTH"],
                )
            except ValidationError as exc:
                db.session.rollback()
                errors = exc.errors
            else:
                db.session.commit()
                mapping_form.upload.data, mapping_form.filename.data = pending.id, filename
                mapping_form.province.data = str(form.province.data or "")
    if errors:
        status = 400
    return (
        render_template(
            "reports/imports.html",
            form=form,
            mapping_form=mapping_form,
            layout=layout,
            fields=imports.FIELDS,
            mapping_order=imports.MAPPING_ORDER,
            needed_fields={"agency", "period", "total", "online", "received_date", "channel"},
            errors=errors,
            mismatch=mismatch,
            result=result,
            history=imports.import_history_page(current_user, page=request.args.get("page", 1, type=int)),
            undo_form=UndoForm(),
            example_agency=_example_agency(),
        ),
        status,
    )


def _example_agency() -> str:
    """An agency name for the file examples: the committee of a commune that exists in the person's area."""
    unit = example_commune(current_user)
    return f"UBND {(unit.kind or 'xã').lower()} {unit.short_name}" if unit else "UBND phường Minh Xuân"


def _run_import(
    stream, filename: str, province_id: int | None, overrides, *, accept_total_mismatch: bool = False, pending=None
):
    """Import, committing on success (the pending file of the second step goes in the same
    transaction); on failure roll back and return the errors, the layout read and whether the file's
    own total is what refused it."""
    layout = None
    try:
        province = imports.import_province(current_user, province_id)
        layout = imports.read_layout(stream, filename, overrides=overrides)
        result = imports.import_statistics(
            current_user,
            stream,
            filename,
            province=province,
            now=utcnow(),
            overrides=overrides,
            accept_total_mismatch=accept_total_mismatch,
        )
    except ValidationError as exc:
        db.session.rollback()
        return None, exc.errors, layout, isinstance(exc, imports.TotalsMismatch)
    if pending is not None:
        imports.discard_upload(current_user, pending)
    db.session.commit()
    return result, None, layout, False


@reports_bp.post("/imports/<int:batch_id>/undo")
def undo(batch_id: int):
    if not imports.may_import(current_user):
        raise Forbidden(current_user.role)
    form = UndoForm()
    if form.validate_on_submit():
        batch = imports.get_import(current_user, batch_id)
        try:
            removed = imports.undo_import(current_user, batch, now=utcnow())
        except ValidationError as exc:
            db.session.rollback()
            flash(exc.errors[""][0], "error")
        else:
            db.session.commit()
            flash(
                _(
                    "Import undone: %(rows)s rows of %(file)s removed, earlier figures restored.",
                    rows=removed,
                    file=batch.filename,
                ),
                "success",
            )
    return redirect(url_for("reports.imports_page"))
