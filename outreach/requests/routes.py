import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from outreach.auth.models import Role
from outreach.auth.scope import require_role
from outreach.clock import utcnow
from outreach.errors import ValidationError
from outreach.extensions import csrf, db, limiter
from outreach.forms import show_form_errors
from outreach.geo.models import AdminUnit
from outreach.geo.phone import display_phone
from outreach.geo.signals import household_erased, household_exported
from outreach.labels import (
    HELP_LABELS,
    NEED_LABELS,
    OBSTACLE_LABELS,
    REQUEST_SOURCE_LABELS,
    REQUEST_STATUS_LABELS,
    TIME_LABELS,
)
from outreach.planning.signals import assignments_released
from outreach.requests import services
from outreach.requests.forms import AskForm, AssignRequestForm, DeskForm
from outreach.requests.models import REQUEST_STATUSES
from outreach.sms.signals import help_asked
from outreach.visits.signals import visits_stored

requests_bp = Blueprint("requests", __name__)


# --- what the lower areas tell this one ------------------------------------------------------


def _on_help_asked(inbound, *, household, now):
    return services.ask_by_sms(inbound, household=household, now=now)


def _on_visits_stored(actor, *, visits, now):
    services.close_by_visits(actor, visits, now=now)


@requests_bp.record_once
def _subscribe(_state) -> None:
    help_asked.connect(_on_help_asked)
    visits_stored.connect(_on_visits_stored)
    household_exported.connect(services.export_help_requests)
    household_erased.connect(services.erase_help_requests)
    assignments_released.connect(services.on_assignments_released)


@requests_bp.app_context_processor
def _labels() -> dict:
    return {
        "NEED_LABELS": NEED_LABELS, "TIME_LABELS": TIME_LABELS, "REQUEST_STATUS_LABELS": REQUEST_STATUS_LABELS,
        "REQUEST_SOURCE_LABELS": REQUEST_SOURCE_LABELS,
        # Pages of lower areas show what this area knows: a campaign's progress these counts (through a
        # template include), the member's Today who asked for help.
        "help_figures_between": services.help_figures_between, "asked_for_help": services.asked_for_help,
    }  # fmt: skip


# --- the resident's form ---------------------------------------------------------------------


def _ask_limit() -> str:
    return current_app.config.get("HELP_RATE_LIMIT", "10 per hour")


@requests_bp.route("/help", methods=["GET", "POST"])
@csrf.exempt  # nobody is logged in and no cookie is set: there is no session to forge a request in
@limiter.limit(_ask_limit, methods=["POST"])
def ask():
    """ "Tôi cần người đến hướng dẫn": no login, no cookie, no script; a leaflet's QR code names the
    commune or village (``?unit=``) so the list of villages is short."""
    unit = services.unit_by_code(request.values.get("unit"))
    query = request.args.get("q", "")[:100]
    source = "qr" if request.values.get("from") == "leaflet" else "form"
    form = AskForm(formdata=request.form if request.method == "POST" else None)
    commune, villages = services.commune_and_villages(unit) if unit is not None else (None, [])
    form.village_id.choices = [SelectChoice(v.id, v.name) for v in villages]
    if request.method == "GET":
        form.token.data = services.new_form_token()
        if unit is not None and unit.level == "village":
            form.village_id.data = unit.id
    if request.method == "POST" and commune is not None:
        if form.website.data:
            # A robot filled in the hidden field: the same answer as everyone, and nothing stored.
            return redirect(url_for("requests.received", unit=f"{commune.dataset}:{commune.code}"), code=303)
        data = services.AskInput(
            name=form.name.data or "", phone=form.phone.data or "",
            village_id=form.village_id.data if form.village_id.data in {v.id for v in villages} else None,
            need=form.need.data or "", preferred_time=form.preferred_time.data or "", note=form.note.data or "",
            consent=bool(form.consent.data), token=form.token.data or "", source=source,
        )  # fmt: skip
        try:
            services.ask(data, now=utcnow())
        except ValidationError as exc:
            show_form_errors(form, exc)
        else:
            db.session.commit()
            return redirect(url_for("requests.received", unit=f"{commune.dataset}:{commune.code}"), code=303)
    communes, formerly = services.find_communes(query) if unit is None else ([], {})
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "requests/ask.html", form=form, unit=unit, commune=commune, query=query, communes=communes, formerly=formerly,
        consent_text=services.FORM_CONSENT_TEXT, source=source,
    )  # fmt: skip
    return page, status, {"Cache-Control": "no-store"}


@requests_bp.get("/help/received")
def received():
    unit = services.unit_by_code(request.args.get("unit"))
    commune = services.commune_and_villages(unit)[0] if unit is not None else None
    kind = str(commune.kind or "").lower() if commune is not None else ""
    return render_template("requests/received.html", kind=kind), 200, {"Cache-Control": "no-store"}


# --- the leaders' list -----------------------------------------------------------------------


@requests_bp.get("/requests")
@login_required
def index():
    status = request.args.get("status")
    status = status if status in REQUEST_STATUSES else None
    page = services.request_list(current_user, status=status)
    return render_template(
        "requests/index.html", status=status, statuses=REQUEST_STATUSES, display_phone=display_phone, **page
    )


def _assign_form(help_request) -> AssignRequestForm:
    form = AssignRequestForm()
    form.member_id.choices = [SelectChoice(0, _("— choose a member —"))] + [
        SelectChoice(m.id, m.full_name or m.username) for m in services.members_for(current_user, help_request)
    ]
    if request.method == "GET":
        form.due_on.data = help_request.due_on or services.first_visit_day(help_request, utcnow())
        form.member_id.data = help_request.member_id or 0
    return form


@requests_bp.get("/requests/<int:request_id>")
@login_required
def show(request_id: int):
    help_request = services.get_request(current_user, request_id)
    return _show(help_request, _assign_form(help_request))


def _show(help_request, form, status: int = 200):
    return render_template(
        "requests/show.html", r=help_request, form=form, display_phone=display_phone,
        candidates=services.matching_households(current_user, help_request), statuses=REQUEST_STATUSES,
    ), status  # fmt: skip


@requests_bp.post("/requests/<int:request_id>/assign")
@login_required
def assign(request_id: int):
    help_request = services.get_request(current_user, request_id)
    form = _assign_form(help_request)
    if form.validate_on_submit():
        try:
            services.assign_request(
                current_user, help_request.id, form.member_id.data, due_on=form.due_on.data, now=utcnow()
            )
        except ValidationError as exc:
            db.session.rollback()
            show_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Assigned. The resident gets an SMS saying who will come (after the quiet hours)."), "success")
            return redirect(url_for("requests.show", request_id=request_id), code=303)
    help_request = services.get_request(current_user, request_id)
    return _show(help_request, form, 400)


@requests_bp.post("/requests/<int:request_id>/status")
@login_required
def change_status(request_id: int):
    try:
        services.set_status(current_user, request_id, request.form.get("status", ""), now=utcnow())
    except ValidationError as exc:
        flash(" ".join(str(m) for ms in exc.errors.values() for m in ms), "error")
    else:
        db.session.commit()
        flash(_("Status changed."), "success")
    return redirect(url_for("requests.show", request_id=request_id), code=303)


@requests_bp.post("/requests/<int:request_id>/household")
@login_required
def household(request_id: int):
    try:
        if "household_id" in request.form:  # this household (a number nobody has reads as none: 404)
            household_id = request.form.get("household_id", type=int) or 0
            services.link_household(current_user, request_id, household_id, now=utcnow())
        else:
            services.household_from_request(current_user, request_id, now=utcnow())
    except ValidationError as exc:
        flash(" ".join(str(m) for ms in exc.errors.values() for m in ms), "error")
    else:
        db.session.commit()
        flash(_("The request is now the household's."), "success")
    return redirect(url_for("requests.show", request_id=request_id), code=303)


@requests_bp.post("/requests/<int:request_id>/erase")
@login_required
def erase(request_id: int):
    services.erase_request(current_user, request_id, now=utcnow())
    db.session.commit()
    flash(_("The request's personal data was erased."), "success")
    return redirect(url_for("requests.index"), code=303)


# --- help at the desk ------------------------------------------------------------------------


@requests_bp.route("/desk", methods=["GET", "POST"])
@login_required
def desk():
    require_role(current_user, Role.LEADER, Role.MEMBER)
    commune: AdminUnit = services.desk_commune(current_user)
    form = DeskForm()
    if request.method == "GET":
        form.client_id.data = str(uuid.uuid4())
    if form.validate_on_submit():
        data = services.DeskInput(
            client_id=form.client_id.data or "", people=form.people.data, done=form.done.data or [],
            obstacles=form.obstacles.data or [], note=form.note.data or "", household_id=form.household_id.data,
        )  # fmt: skip
        try:
            services.record_desk_help(current_user, data, now=utcnow())
        except ValidationError as exc:
            show_form_errors(form, exc)
        else:
            db.session.commit()
            if services.sensitive_counted_apart(data):
                flash(
                    _(
                        "Help at the desk recorded. The disability was counted anonymously for the village, "
                        "not kept with the household."
                    ),
                    "success",
                )
            else:
                flash(_("Help at the desk recorded."), "success")
            return redirect(url_for("requests.desk"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "requests/desk.html", form=form, commune=commune, recent=services.desk_recent(current_user),
        HELP_LABELS=HELP_LABELS, OBSTACLE_LABELS=OBSTACLE_LABELS,
    ), status  # fmt: skip
