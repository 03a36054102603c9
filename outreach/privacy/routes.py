from datetime import datetime, timedelta

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from outreach.activity import exports
from outreach.auth.permissions import may
from outreach.auth.scope import get_household
from outreach.clock import local_zone
from outreach.errors import Forbidden, ValidationError
from outreach.extensions import csrf, db, limiter
from outreach.forms import show_form_errors
from outreach.geo.phone import display_phone
from outreach.labels import RIGHT_LABELS
from outreach.privacy import asking, register, retention, services
from outreach.privacy.forms import (
    CHANNEL_LABELS,
    RESIDENT_RIGHT_LABELS,
    STATUS_LABELS,
    AskDataForm,
    BreachForm,
    CaseForm,
    CloseCaseForm,
)
from outreach.types import utcnow

privacy_bp = Blueprint("privacy", __name__, url_prefix="/privacy")
# The residents' form: public, apart from the leaders' pages (which all need a login).
privacy_public_bp = Blueprint("privacy_public", __name__, url_prefix="/privacy")
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
    candidates = services.matching_households(current_user, found) if may(current_user, "handle_data_requests") else []
    return render_template(
        "privacy/case.html",
        case=found,
        candidates=candidates,
        form=CloseCaseForm(),
        now=utcnow(),
        display_phone=display_phone,
        **LABELS,
    )


@privacy_bp.post("/cases/<int:case_id>/household")
def link_household(case_id: int):
    """The leader found the person's household (among those offered, or by its number)."""
    if not may(current_user, "handle_data_requests"):
        raise Forbidden(current_user.role)
    try:
        household_id = request.form.get("household_id", type=int) or 0  # a number nobody has reads as none: 404
        services.link_household(current_user, case_id, household_id, now=utcnow())
    except ValidationError as exc:
        flash(" ".join(str(m) for ms in exc.errors.values() for m in ms), "error")
    else:
        db.session.commit()
        flash(_("The request is now the household's."), "success")
    return redirect(url_for("privacy.case", case_id=case_id), code=303)


@privacy_bp.post("/cases/<int:case_id>/stop")
def confirm_stop(case_id: int):
    """The leader called the resident back: it is them, so their restriction or objection takes effect."""
    if not may(current_user, "handle_data_requests"):
        raise Forbidden(current_user.role)
    try:
        services.confirm_stop(current_user, case_id, now=utcnow())
    except ValidationError as exc:
        flash(" ".join(str(m) for ms in exc.errors.values() for m in ms), "error")
    else:
        db.session.commit()
        flash(_("The processing of the household's data is stopped."), "success")
    return redirect(url_for("privacy.case", case_id=case_id), code=303)


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
    return render_template(
        "privacy/case.html", case=found, form=form, now=utcnow(), display_phone=display_phone, **LABELS
    ), 400


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


# --- the residents' form ---------------------------------------------------------------------


def _ask_limit() -> str:
    return current_app.config.get("HELP_RATE_LIMIT", "10 per hour")


def _unit_param(unit) -> str:
    return f"{unit.dataset}:{unit.code}"


@privacy_public_bp.route("/ask", methods=["GET", "POST"])
@csrf.exempt  # nobody is logged in and no cookie is set: there is no session to forge a request in
@limiter.limit(_ask_limit, methods=["POST"])
def ask():
    """ "Yêu cầu về dữ liệu cá nhân của tôi", from a guide page or a leaflet: no login, no cookie, no script;
    the leaflet's QR code names the commune or village (``?unit=``), else the resident finds their commune."""
    unit = asking.unit_by_code(request.values.get("unit"))
    commune = asking.commune_of(unit) if unit is not None else None
    query = request.args.get("q", "")[:100]
    form = AskDataForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.token.data = asking.new_form_token()
    if request.method == "POST" and commune is not None:
        kind = form.kind.data if form.kind.data in RESIDENT_RIGHT_LABELS else ""
        answer = url_for("privacy_public.received", unit=_unit_param(commune), kind=kind or None)
        if form.website.data:
            # A robot filled in the hidden field: the same answer as everyone, and nothing stored.
            return redirect(answer, code=303)
        data = asking.AskInput(
            commune_id=commune.id, name=form.name.data or "", phone=form.phone.data or "", kind=kind,
            details=form.details.data or "", consent=bool(form.consent.data), token=form.token.data or "",
        )  # fmt: skip
        try:
            asking.ask(data, now=utcnow())
        except ValidationError as exc:
            show_form_errors(form, exc)
        else:
            db.session.commit()
            return redirect(answer, code=303)
    communes, formerly = asking.find_communes(query) if unit is None else ([], {})
    page = render_template(
        "privacy/ask.html", form=form, unit=unit, commune=commune, query=query, communes=communes,
        formerly=formerly, consent_text=asking.FORM_CONSENT_TEXT, unknown_unit=bool(request.values.get("unit")),
    )  # fmt: skip
    return page, 400 if request.method == "POST" else 200, {"Cache-Control": "no-store"}


@privacy_public_bp.get("/ask/received")
def received():
    """What happens next and by when: the same for every number (never whether it is known)."""
    unit = asking.unit_by_code(request.args.get("unit"))
    commune = asking.commune_of(unit) if unit is not None else None
    kind = request.args.get("kind", "")
    kind = kind if kind in RESIDENT_RIGHT_LABELS else ""
    due = utcnow() + timedelta(hours=services.deadline_hours(kind or "know"))
    page = render_template(
        "privacy/asked.html", commune=commune, kind=kind, due=f"{due.astimezone(local_zone()):%d/%m/%Y}",
        kind_word=str(commune.kind or "").lower() if commune is not None else "",
    )  # fmt: skip
    return page, 200, {"Cache-Control": "no-store"}
