import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from outreach.audit.services import record_event
from outreach.auth.models import Role
from outreach.auth.scope import get_household, get_unit, require_role, village_choices
from outreach.auth.services import example_commune
from outreach.errors import ValidationError
from outreach.extensions import db, records_reads
from outreach.forms import show_form_errors
from outreach.geo import services
from outreach.geo.consent import CONSENT_TEXTS
from outreach.geo.forms import EraseForm, HouseholdForm, ImportForm, VillageForm
from outreach.geo.imports import import_households, import_villages
from outreach.geo.models import Level, Purpose
from outreach.geo.phone import display_phone
from outreach.labels import PURPOSE_LABELS, READ_LABELS
from outreach.text import fold
from outreach.types import utcnow

geo_bp = Blueprint("geo", __name__)
SEARCH_LIMIT = 30


@geo_bp.before_request
@login_required
def logged_in():
    pass


def _float(value) -> float | None:
    return float(value) if value is not None else None


# --- units and villages ----------------------------------------------------------------------


@geo_bp.get("/units")
def units():
    query = request.args.get("q", "").strip()
    results = services.search_units(current_user, query, limit=SEARCH_LIMIT) if query else None
    return render_template(
        "geo/units.html",
        query=query,
        results=results,
        formerly=services.former_names(results, query) if results else {},
        roots=services.root_units(current_user),
        limit=SEARCH_LIMIT,
        example=fold(example.short_name) if (example := example_commune(current_user)) else "",
    )


@geo_bp.get("/units/<int:unit_id>")
def unit(unit_id: int):
    unit = get_unit(current_user, unit_id)
    form = None
    if unit.level == Level.COMMUNE and current_user.role in (Role.ADMIN, Role.LEADER):
        form = VillageForm(kind=services.usual_village_kind(unit))
    return render_template("geo/unit.html", unit=unit, children=services.child_units(current_user, unit), form=form)


@geo_bp.post("/units/<int:unit_id>/villages")
def add_village(unit_id: int):
    commune = get_unit(current_user, unit_id)
    form = VillageForm()
    if form.validate_on_submit():
        data = services.VillageInput(form.name.data, form.kind.data, _float(form.lat.data), _float(form.lon.data))
        try:
            village = services.save_village(current_user, commune, data)
        except ValidationError as exc:
            show_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("%(name)s added.", name=village.name), "success")
            return redirect(url_for("geo.unit", unit_id=commune.id))
    flash(_("The village was not added: see the form below."), "error")
    return render_template(
        "geo/unit.html", unit=commune, children=services.child_units(current_user, commune), form=form
    ), 400


@geo_bp.route("/villages/<int:village_id>/edit", methods=["GET", "POST"])
def edit_village(village_id: int):
    village = services.get_village(current_user, village_id)
    require_role(current_user, Role.LEADER)
    form = VillageForm(obj=None)
    if request.method == "GET":
        form.name.data, form.kind.data, form.lat.data, form.lon.data = (
            village.short_name,
            village.kind,
            village.lat,
            village.lon,
        )
    if form.validate_on_submit():
        data = services.VillageInput(form.name.data, form.kind.data, _float(form.lat.data), _float(form.lon.data))
        try:
            services.save_village(current_user, village.parent_unit, data, village=village)
        except ValidationError as exc:
            show_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("geo.unit", unit_id=village.parent_id))
    return render_template(
        "geo/village_edit.html", village=village, form=form, households=services.village_household_count(village)
    )


@geo_bp.post("/villages/<int:village_id>/delete")
def delete_village(village_id: int):
    village = services.get_village(current_user, village_id)
    commune_id, name = village.parent_id, village.name
    try:
        services.delete_village(current_user, village.id, now=utcnow())
    except ValidationError as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(str(message), "error")
        return redirect(url_for("geo.edit_village", village_id=village_id))
    db.session.commit()
    flash(_("%(name)s deleted.", name=name), "success")
    return redirect(url_for("geo.unit", unit_id=commune_id))


# --- households ------------------------------------------------------------------------------


def _household_form(form: HouseholdForm) -> None:
    villages = village_choices(current_user)
    form.village_id.choices = [SelectChoice(0, _("— choose —"))] + [
        SelectChoice(v.id, f"{v.name} ({v.parent_unit.short_name})") for v in villages
    ]
    if len(villages) == 1 and not form.village_id.data:
        form.village_id.data = villages[0].id  # a village team member has only one


def _household_input(form: HouseholdForm) -> services.HouseholdInput:
    return services.HouseholdInput(
        village_id=form.village_id.data or None,
        head_name=form.head_name.data or "",
        address=form.address.data or "",
        phone=form.phone.data or "",
        members=form.members.data,
        lat=_float(form.lat.data),
        lon=_float(form.lon.data),
        notes=form.notes.data or "",
        consent_store_phone=form.consent_store_phone.data,
        consent_sms=form.consent_sms.data,
    )


def _all_errors(form: HouseholdForm) -> None:
    """The form's own checks stopped at its first failures: add the service's checks of the other fields,
    so that one submit shows every mistake."""
    errors, _phone = services.validate_household(_household_input(form))
    for name, messages in errors.items():
        field = getattr(form, name, None)
        if field is not None and not field.errors:
            field.errors = [str(m) for m in messages]


@geo_bp.get("/households")
@records_reads
def households():
    village_id = request.args.get("village", type=int)
    query = request.args.get("q", "")
    found = services.list_households(
        current_user, query=query, village_id=village_id, page=request.args.get("page", 1, type=int), per_page=50
    )
    # Reads on record (README "Personal data"): which households a list showed, to whom.
    record_event(current_user, "read.list", detail={"ids": [h.id for h in found.items]}, now=utcnow())
    db.session.commit()
    return render_template(
        "geo/households.html",
        households=found,
        query=query,
        village_id=village_id,
        villages=village_choices(current_user),
    )


@geo_bp.route("/households/new", methods=["GET", "POST"])
def new_household():
    require_role(current_user, Role.LEADER, Role.MEMBER)
    form = HouseholdForm()
    _household_form(form)
    village_id = request.args.get("village", type=int)
    if request.method == "GET" and village_id:
        form.village_id.data = village_id
    duplicates = []
    if form.validate_on_submit():
        try:
            household = services.create_household(
                current_user, _household_input(form), now=utcnow(), confirm_duplicate=form.confirm_duplicate.data
            )
        except ValidationError as exc:
            show_form_errors(form, exc)
        except services.DuplicateWarning as warning:
            duplicates = warning.candidates
        else:
            db.session.commit()
            flash(_("Household of %(name)s saved.", name=household.head_name), "success")
            return redirect(url_for("geo.household", household_id=household.id))
    elif form.is_submitted():
        _all_errors(form)
    return render_template("geo/household_form.html", form=form, duplicates=duplicates, household=None)


@geo_bp.get("/households/<int:household_id>")
@records_reads
def household(household_id: int):
    household = get_household(current_user, household_id, include_restricted=True)
    record_event(current_user, "read.household", target=household, now=utcnow())
    db.session.commit()
    return render_template(
        "geo/household.html", household=household, erase_form=EraseForm(), Purpose=Purpose, consent_texts=CONSENT_TEXTS,
        reads=services.household_reads(household.id, limit=20) if current_user.role == Role.LEADER else [],
        read_labels=READ_LABELS,
    )  # fmt: skip


@geo_bp.route("/households/<int:household_id>/edit", methods=["GET", "POST"])
def edit_household(household_id: int):
    household = get_household(current_user, household_id)
    require_role(current_user, Role.LEADER, Role.MEMBER)
    form = HouseholdForm(obj=household if request.method == "GET" else None)
    _household_form(form)
    if request.method == "GET":
        form.phone.data = display_phone(household.phone)
    duplicates = []
    if form.validate_on_submit():
        try:
            services.update_household(
                current_user,
                household.id,
                _household_input(form),
                now=utcnow(),
                confirm_duplicate=form.confirm_duplicate.data,
            )
        except ValidationError as exc:
            show_form_errors(form, exc)
        except services.DuplicateWarning as warning:
            duplicates = warning.candidates
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("geo.household", household_id=household.id))
    elif form.is_submitted():
        _all_errors(form)
    return render_template("geo/household_form.html", form=form, duplicates=duplicates, household=household)


@geo_bp.post("/households/<int:household_id>/consent/<purpose>/withdraw")
def withdraw_consent(household_id: int, purpose: str):
    services.withdraw_consent(current_user, household_id, purpose, now=utcnow())
    db.session.commit()
    if purpose == Purpose.STORE_PHONE:
        flash(_("Consent withdrawn: the phone number is deleted and no SMS will be sent."), "success")
    else:
        flash(_("Consent withdrawn: no SMS will be sent to this household."), "success")
    return redirect(url_for("geo.household", household_id=household_id))


@geo_bp.post("/households/<int:household_id>/consent/<purpose>/grant")
def grant_consent(household_id: int, purpose: str):
    try:
        services.grant_consent(current_user, household_id, purpose, now=utcnow())
    except ValidationError as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(str(message), "error")
    else:
        db.session.commit()
        flash(_("Consent recorded."), "success")
    return redirect(url_for("geo.household", household_id=household_id))


@geo_bp.get("/households/<int:household_id>/export")
@records_reads
def export_household(household_id: int):
    now = utcnow()
    data = services.export_household(current_user, household_id, now=now)
    db.session.commit()
    if request.args.get("format") == "json":
        body = json.dumps(data, ensure_ascii=False, indent=2)
        return Response(
            body,
            mimetype="application/json",
            headers={"Content-Disposition": f"attachment; filename=household-{household_id}.json"},
        )
    household = get_household(current_user, household_id, include_restricted=True)
    return render_template("geo/household_export.html", household=household, now=now, purposes=PURPOSE_LABELS)


@geo_bp.post("/households/<int:household_id>/erase")
def erase_household(household_id: int):
    household = get_household(current_user, household_id, include_restricted=True)
    form = EraseForm()
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm the erasure."), "error")
        return redirect(url_for("geo.household", household_id=household_id))
    village_id = household.village_id
    services.erase_household(current_user, household_id, now=utcnow())
    db.session.commit()
    flash(_("The household's personal data is erased. Only an anonymous count remains."), "success")
    return redirect(url_for("geo.households", village=village_id))


@geo_bp.route("/imports", methods=["GET", "POST"])
def imports():
    require_role(current_user, Role.LEADER)
    form = ImportForm()
    errors, result = None, None
    if form.validate_on_submit():
        upload = form.file.data
        importer = import_households if form.kind.data == "households" else import_villages
        try:
            result = importer(current_user, upload.stream, upload.filename or "upload.csv", now=utcnow())
        except ValidationError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
    example = example_commune(current_user)
    return render_template(
        "geo/imports.html",
        form=form,
        errors=errors,
        result=result,
        example=example,
        example_kind=services.usual_village_kind(example) if example else "Tổ dân phố",
    ), 400 if errors else 200
