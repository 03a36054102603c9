from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from outreach.activity import exports, reminders, services, trace
from outreach.activity import figures as counting
from outreach.activity.document import build_document
from outreach.activity.forms import NoteForm, ReminderPhoneForm, ReviewForm, StopRemindersForm
from outreach.activity.labels import EVENT_LABELS, STATUS_LABELS
from outreach.activity.periods import ReportPeriod, default_period, month_of, parse_period, quarter_of
from outreach.auth.models import Role
from outreach.clock import local_today
from outreach.errors import Forbidden, ValidationError
from outreach.extensions import db
from outreach.forms import show_form_errors
from outreach.geo.models import AdminUnit, Level
from outreach.labels import OBSTACLE_LABELS
from outreach.types import utcnow

activity_bp = Blueprint("activity", __name__, url_prefix="/activity")


@activity_bp.before_request
@login_required
def logged_in():
    pass


def _period() -> ReportPeriod:
    today = local_today()
    text = request.args.get("period", "")
    if not text:
        return default_period(today, reminders.reminder_day())
    try:
        return parse_period(text)
    except ValidationError as exc:
        flash(exc.errors["period"][0], "error")
        return default_period(today, reminders.reminder_day())


def _recent_periods(count: int = 12) -> list[ReportPeriod]:
    """The months and quarters offered in the period menu, newest first."""
    month = month_of(local_today())
    months = [month]
    while len(months) < count:
        months.append(months[-1].previous())
    quarters = [quarter_of(local_today())]
    while len(quarters) < 4:
        quarters.append(quarters[-1].previous())
    return months + quarters


@activity_bp.get("/")
def index():
    if current_user.role == Role.MEMBER:
        return redirect(url_for("activity.mine"))
    if current_user.scope_unit_id is not None:
        return redirect(url_for("activity.unit", unit_id=current_user.scope_unit_id))
    provinces = list(
        db.session.scalars(sa.select(AdminUnit).where(AdminUnit.level == Level.PROVINCE).order_by(AdminUnit.sort_key))
    )
    return render_template("activity/index.html", provinces=provinces)


@activity_bp.get("/units/<int:unit_id>")
def unit(unit_id: int):
    """A unit's report for a month or quarter: its figures, its state, and (above a commune) its parts."""
    unit = services.get_report_unit(current_user, unit_id)
    period = _period()
    view = services.report_view(current_user, unit, period)
    form = NoteForm(data={"went_well": view.report.went_well, "blocked": view.report.blocked} if view.report else None)
    return render_template(
        "activity/unit.html",
        view=view,
        unit=unit,
        period=period,
        periods=_recent_periods(),
        form=form,
        review_form=ReviewForm(),
        figures=counting,
        status_labels=STATUS_LABELS,
        event_labels=EVENT_LABELS,
        obstacle_labels=OBSTACLE_LABELS,
        review_parts={p.unit.id for p in view.parts if services.may_review(current_user, p.unit)},
        waiting_only=request.args.get("show") == "waiting",
    )


@activity_bp.post("/units/<int:unit_id>/report")
def write(unit_id: int):
    """Save the note, or submit the report (the figures are frozen)."""
    unit = services.get_report_unit(current_user, unit_id)
    period = _period()
    form = NoteForm()
    back = url_for("activity.unit", unit_id=unit.id, period=period.key)
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(back)
    submit = request.form.get("action") == "submit"
    action = services.submit_report if submit else services.save_note
    try:
        report = action(
            current_user, unit, period, went_well=form.went_well.data, blocked=form.blocked.data,
            today=local_today(), now=utcnow(),
        )  # fmt: skip
    except ValidationError as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(back)
    db.session.commit()
    if submit:
        flash(
            _("Report submitted (No. %(number)s): the figures are frozen as they are now.", number=report.number),
            "success",
        )
    else:
        flash(_("Note saved. The report is not submitted yet."), "success")
    return redirect(back)


@activity_bp.post("/reports/<int:report_id>/review")
def review(report_id: int):
    """Approve or return a submitted report."""
    form = ReviewForm()
    report = services.get_report(current_user, report_id)
    back = request.form.get("next", "")
    if not back.startswith("/activity/") or back.startswith("//"):
        back = url_for(
            "activity.unit", unit_id=report.unit_id, period=ReportPeriod(report.period_kind, report.period_start).key
        )
    if not form.validate_on_submit():
        flash(_("The comment is too long."), "error")
        return redirect(back)
    approve = request.form.get("action") == "approve"
    try:
        if approve:
            services.approve_report(current_user, report.id, comment=form.comment.data, now=utcnow())
        else:
            services.return_report(current_user, report.id, comment=form.comment.data, now=utcnow())
    except ValidationError as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(back)
    db.session.commit()
    if approve:
        flash(_("Approved: %(unit)s.", unit=report.unit.name), "success")
    else:
        flash(_("Returned to %(unit)s with your comment.", unit=report.unit.name), "success")
    return redirect(back)


@activity_bp.get("/units/<int:unit_id>/figures/<key>")
def figure(unit_id: int, key: str):
    """What one figure of a commune's report counts."""
    unit = services.get_report_unit(current_user, unit_id)
    if unit.level != Level.COMMUNE:
        abort(404)
    period = _period()
    found = trace.figure_trace(current_user, unit, period, key)
    if found.kind == "dossiers":
        previous = key.startswith("previous_")
        shown = period.previous() if previous else period
        months = urlencode({"from": f"{shown.start:%Y-%m}", "to": f"{shown.end:%Y-%m}"})
        return redirect(url_for("reports.unit", unit_id=unit.id) + "?" + months)
    return render_template(
        "activity/figure.html", unit=unit, period=period, trace=found, label=counting.label_of(key), member=None
    )


@activity_bp.get("/units/<int:unit_id>/download/<fmt>")
def download(unit_id: int, fmt: str):
    """The report as XLSX, DOCX or PDF: as submitted once it is, else as counted now (marked draft)."""
    if fmt not in ("xlsx", "docx", "pdf"):
        abort(404)
    unit = services.get_report_unit(current_user, unit_id)
    period = _period()
    view = services.report_view(current_user, unit, period)
    stem = f"bao-cao-{period.key}-{unit.code}"
    if fmt == "xlsx":
        body, mimetype = exports.xlsx_file(view), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "docx":
        body = exports.docx_file(build_document(view))
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    else:
        body, mimetype = exports.pdf_file(build_document(view)), "application/pdf"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})


def _member_commune() -> AdminUnit:
    unit = current_user.scope_unit
    if unit is None:
        raise Forbidden(current_user.role)
    return unit.parent_unit if unit.level == Level.VILLAGE else unit


@activity_bp.get("/mine")
def mine():
    """A member's own figures for a month or quarter (members see no one else's)."""
    if current_user.role not in (Role.MEMBER, Role.LEADER):
        return redirect(url_for("activity.index"))
    period = _period()
    commune = _member_commune()
    key = request.args.get("figure")
    found = trace.figure_trace(current_user, commune, period, key, member=current_user) if key else None
    if found is not None and found.kind in ("dossiers", "none"):
        abort(404)
    return render_template(
        "activity/mine.html",
        period=period,
        periods=_recent_periods(),
        commune=commune,
        figures=counting.member_figures(current_user, commune, period),
        counting=counting,
        trace=found,
        label=counting.label_of(key) if key else "",
    )


@activity_bp.route("/reminders", methods=["GET", "POST"])
def reminder_settings():
    """The number a leader (or district staff) agrees to be reminded on by SMS, and stopping it."""
    if current_user.role not in (Role.ADMIN, Role.LEADER, Role.STAFF):
        raise Forbidden(current_user.role)
    row = reminders.reminder_phone(current_user)
    form, stop_form = ReminderPhoneForm(), StopRemindersForm()
    if request.method == "POST" and request.form.get("action") == "stop" and stop_form.validate_on_submit():
        reminders.stop_reminders(current_user, now=utcnow())
        db.session.commit()
        flash(_("No more SMS reminders: your number was removed."), "success")
        return redirect(url_for("activity.reminder_settings"))
    if request.method == "POST" and form.validate_on_submit():
        try:
            reminders.agree_to_reminders(current_user, form.phone.data, agreed=form.agree.data, now=utcnow())
        except ValidationError as exc:
            db.session.rollback()
            show_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("You will get an SMS when a report is due and not yet submitted."), "success")
            return redirect(url_for("activity.reminder_settings"))
    return render_template(
        "activity/reminders.html",
        row=row,
        form=form,
        stop_form=stop_form,
        consent_text=reminders.consent_text(),
        day=reminders.reminder_day(),
    )
