from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from outreach.activity import exports
from outreach.auth.permissions import may
from outreach.auth.scope import get_household
from outreach.clock import local_zone
from outreach.errors import Forbidden, ValidationError
from outreach.extensions import db
from outreach.forms import show_form_errors
from outreach.labels import RIGHT_LABELS
from outreach.privacy import register, retention, services
from outreach.privacy.forms import (
    CHANNEL_LABELS,
    STATUS_LABELS,
    BreachForm,
    CaseForm,
    CloseCaseForm,
)
from outreach.types import utcnow

privacy_bp = Blueprint("privacy", __name__, url_prefix="/privacy")
LABELS = {"rights": RIGHT_LABELS, "channels": CHANNEL_LABELS, "statuses": STATUS_LABELS}


@privacy_bp.before_request
@login_required
def logged_in():
    if not may(current_user, "see_privacy"):
        raise Forbidden(current_user.role)


def _aware(moment: datetime | None) -> datetime | None:
    """A local date and time typed in a form, as an aware moment."""
    return moment.replace(tzinfo=local_zone()) if moment is not None else None


@privacy_bp.get("")
def index():
    now = utcnow()
    return render_template(
        "privacy/index.html",
        now=now,
        overdue=services.list_cases(current_user, now=now, status="overdue", limit=50),
        due_soon=services.due_soon_count(current_user, now=now),
        open_cases=services.list_cases(current_user, now=now, status="open", limit=50),
        days=retention.retention_days(),
        kinds=retention.KINDS,
        runs=retention.last_runs(5) if may(current_user, "handle_data_requests") else [],
        breaches=list(db.session.scalars(services.breaches_in_scope(current_user).limit(20))),
        **LABELS,
    )


# --- rights cases ----------------------------------------------------------------------------


@privacy_bp.get("/cases")
def cases():
    now = utcnow()
    status = request.args.get("status", "")
    household_id = request.args.get("household", type=int)
    found = services.list_cases(current_user, now=now, status=status, household_id=household_id)
    return render_template("privacy/cases.html", cases=found, now=now, status=status, **LABELS)


@privacy_bp.route("/cases/new", methods=["GET", "POST"])
def new_case():
    if not may(current_user, "handle_data_requests"):
        raise Forbidden(current_user.role)
    household_id = request.args.get("household", type=int)
    household = get_household(current_user, household_id, include_restricted=True) if household_id else None
    form = CaseForm()
    if form.validate_on_submit():
        data = services.CaseInput(
            kind=form.kind.data,
            requester=form.requester.data or "",
            channel=form.channel.data,
            details=form.details.data or "",
            household_id=household.id if household else None,
            received_at=_aware(form.received_at.data),
        )
        try:
            case = services.open_case(current_user, data, now=utcnow())
        except ValidationError as exc:
            show_form_errors(form, exc)
        else:
            db.session.commit()
            flash(
                _(
                    "Request recorded. Answer it by %(when)s.",
                    when=case.due_at.astimezone(local_zone()).strftime("%H:%M %d/%m/%Y"),
                ),
                "success",
            )  # noqa: E501
            return redirect(url_for("privacy.case", case_id=case.id))
    status = 400 if request.method == "POST" else 200
    return render_template("privacy/case_form.html", form=form, household=household, **LABELS), status


@privacy_bp.get("/cases/<int:case_id>")
def case(case_id: int):
    found = services.get_case(current_user, case_id)
    return render_template("privacy/case.html", case=found, form=CloseCaseForm(), now=utcnow(), **LABELS)


@privacy_bp.post("/cases/<int:case_id>/close")
def close_case(case_id: int):
    found = services.get_case(current_user, case_id)
    form = CloseCaseForm()
    if form.validate_on_submit():
        try:
            services.close_case(
                current_user, found.id, status=form.status.data, action_taken=form.action_taken.data or "",
                answer=form.answer.data or "", now=utcnow(),
            )  # fmt: skip
        except ValidationError as exc:
            show_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The request is answered."), "success")
            return redirect(url_for("privacy.case", case_id=found.id))
    return render_template("privacy/case.html", case=found, form=form, now=utcnow(), **LABELS), 400


# --- the register ----------------------------------------------------------------------------


@privacy_bp.get("/register")
def register_page():
    return render_template("privacy/register.html", sections=register.build_sections(current_user.scope_unit))


@privacy_bp.get("/register.<fmt>")
def register_download(fmt: str):
    if fmt not in ("docx", "pdf"):
        abort(404)
    document = register.build_register(current_user)
    if fmt == "docx":
        body = exports.docx_file(document)
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    else:
        body, mimetype = exports.pdf_file(document), "application/pdf"
    name = f"so-dang-ky-xu-ly-du-lieu-ca-nhan.{fmt}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- breaches --------------------------------------------------------------------------------


@privacy_bp.route("/breaches", methods=["GET", "POST"])
def breaches():
    form = BreachForm()
    if request.method == "POST" and form.validate_on_submit():
        data = services.BreachInput(
            what=form.what.data or "", found_at=_aware(form.found_at.data), people=form.people.data,
            data_kinds=form.data_kinds.data or "", actions=form.actions.data or "",
        )  # fmt: skip
        try:
            breach = services.record_breach(current_user, data, now=utcnow())
        except ValidationError as exc:
            show_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Breach recorded."), "success")
            return redirect(url_for("privacy.breach", breach_id=breach.id))
    found = list(db.session.scalars(services.breaches_in_scope(current_user).limit(100)))
    status = 400 if request.method == "POST" else 200
    return render_template("privacy/breaches.html", form=form, breaches=found, now=utcnow()), status


@privacy_bp.get("/breaches/<int:breach_id>")
def breach(breach_id: int):
    found = services.get_breach(current_user, breach_id)
    return render_template("privacy/breach.html", breach=found, text=services.notification_text(found), now=utcnow())


@privacy_bp.post("/breaches/<int:breach_id>/notified")
def breach_notified(breach_id: int):
    services.mark_notified(current_user, breach_id, now=utcnow())
    db.session.commit()
    flash(_("Marked as notified."), "success")
    return redirect(url_for("privacy.breach", breach_id=breach_id))
