"""JSON API routes for units and households (the blueprint and its authentication: outreach.api).
What they read is declared here (``UnitsQuery``, ``HouseholdsQuery``, ``NewHousehold``) and stated by
the OpenAPI document from the same declarations."""

from typing import Annotated, Any

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema
from pydantic import ValidationError as Unfit

from outreach.api import NO_NUL, Query, api_bp, expected, read_query, validation_response
from outreach.audit.services import record_event
from outreach.auth.scope import get_household, get_unit
from outreach.errors import ValidationError
from outreach.extensions import db, records_reads
from outreach.geo import services
from outreach.geo.models import AdminUnit, Household, Level, Purpose
from outreach.types import MAX_INTEGER, utcnow

MAX_PAGE = 100_000  # of 100 households: ten million, more than any province has

Search = Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)]
UnitId = Annotated[int, Field(ge=1, le=MAX_INTEGER)]
# Required text holds something besides spaces, which the service would trim to nothing.
HeadName = Annotated[str, StringConstraints(max_length=120, pattern=r"^[^\x00]*[^\x00\s][^\x00]*$")]
Address = Annotated[str, StringConstraints(max_length=255, pattern=NO_NUL)]
Phone = Annotated[str, StringConstraints(max_length=30, pattern=NO_NUL)]
Notes = Annotated[str, StringConstraints(max_length=2000, pattern=NO_NUL)]
Latitude = Annotated[
    Annotated[float, Field(ge=-90, le=90)] | None,
    WithJsonSchema({"type": ["number", "null"], "minimum": -90, "maximum": 90}),
]
Longitude = Annotated[
    Annotated[float, Field(ge=-180, le=180)] | None,
    WithJsonSchema({"type": ["number", "null"], "minimum": -180, "maximum": 180}),
]


def _first_page_unless_a_page(value: Any) -> Any:
    # As on the site's pages: "two", 0 or -3 is the first page (a number past the last is refused).
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1


class UnitsQuery(Query):
    q: Search = Field("", description="Words of the name, without diacritics if you like.")
    level: Annotated[Level | None, WithJsonSchema({"enum": [level.value for level in Level]})] = None


class HouseholdsQuery(Query):
    q: Search = Field("", description="Words of the head's name or the address, or digits of the phone.")
    village_id: Annotated[UnitId | None, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_INTEGER})] = (
        None
    )
    page: Annotated[int, BeforeValidator(_first_page_unless_a_page)] = Field(
        1, ge=1, le=MAX_PAGE, description="100 households a page; 0, a negative number or a word is the first."
    )


class NewHousehold(BaseModel):
    """A household registered from the field app, declared once for the check and the OpenAPI document.
    Other keys are ignored. What the declaration cannot say (a village of your area, a Vietnamese
    mobile number, the consent a phone number needs) the service checks, answering 422 by field."""

    model_config = ConfigDict(title="NewHousehold", strict=True, allow_inf_nan=False)

    village_id: UnitId
    head_name: HeadName
    address: Address = ""
    phone: Phone = Field("", description="0912345678, +84912345678 or 84912345678")
    members: Annotated[int, Field(ge=0, le=100)] = 1
    lat: Latitude = None
    lon: Longitude = None
    notes: Notes = ""
    consent_store_phone: bool = Field(False, description="Required with a phone.")
    consent_sms: bool = False
    confirm_duplicate: bool = Field(False, description="Save even when a possible duplicate exists.")


def unit_json(unit: AdminUnit) -> dict:
    return {
        "id": unit.id,
        "code": unit.code,
        "dataset": unit.dataset,
        "level": unit.level,
        "kind": unit.kind,
        "name": unit.name,
        "parent_id": unit.parent_id,
        "lat": unit.lat,
        "lon": unit.lon,
    }


def household_json(household: Household) -> dict:
    return {
        "id": household.id,
        "village_id": household.village_id,
        "village": household.village.name,
        "head_name": household.head_name,
        "address": household.address,
        "phone": household.phone,
        "members": household.members,
        "lat": household.lat,
        "lon": household.lon,
        "notes": household.notes,
        "consent": {p.value: household.active_consent(p) is not None for p in Purpose},
        "updated_at": household.updated_at.isoformat(),
    }


@api_bp.get("/me")
def me():
    unit = current_user.scope_unit
    return jsonify(
        {"username": current_user.username, "role": current_user.role, "unit": unit_json(unit) if unit else None}
    )


@api_bp.get("/units")
def units():
    asked = read_query(UnitsQuery)
    found = services.search_units(current_user, asked.q, level=asked.level)
    formerly = services.former_names(found, asked.q)
    return jsonify(
        {"units": [unit_json(u) | ({"formerly": formerly[u.id]} if u.id in formerly else {}) for u in found]}
    )


@api_bp.get("/units/<int:unit_id>")
def unit(unit_id: int):
    found = get_unit(current_user, unit_id)
    return jsonify(
        unit_json(found)
        | {"children": [unit_json(u) | {"households": n} for u, n in services.child_units(current_user, found)]}
    )


@api_bp.get("/households")
@records_reads
def households():
    asked = read_query(HouseholdsQuery)
    found = services.list_households(
        current_user, query=asked.q, village_id=asked.village_id, page=asked.page, per_page=100
    )
    record_event(current_user, "read.list", detail={"ids": [h.id for h in found.items], "via": "api"}, now=utcnow())
    db.session.commit()
    return jsonify({"total": found.total, "page": found.page, "households": [household_json(h) for h in found]})


@api_bp.get("/households/<int:household_id>")
@records_reads
def household(household_id: int):
    found = get_household(current_user, household_id)
    record_event(current_user, "read.api", target=found, now=utcnow())  # who read whose data (outreach/privacy)
    db.session.commit()
    return jsonify(household_json(found))


@api_bp.post("/households")
def create_household():
    body = request.get_json(silent=True)
    try:
        sent = _read_household(body if isinstance(body, dict) else {})
        data = services.HouseholdInput(**sent.model_dump(exclude={"confirm_duplicate"}))
        created = services.create_household(current_user, data, now=utcnow(), confirm_duplicate=sent.confirm_duplicate)
    except ValidationError as exc:
        return validation_response(exc)
    except services.DuplicateWarning as warning:
        message = _("A household like this one is already registered: send confirm_duplicate to save it anyway.")
        candidates = [household_json(h) for h in warning.candidates]
        return jsonify({"error": "possible_duplicate", "message": message, "candidates": candidates}), 409
    db.session.commit()
    return jsonify(household_json(created)), 201


def _read_household(body: dict) -> NewHousehold:
    """The body as declared, or the fields that do not fit, each with what to send."""
    try:
        return NewHousehold.model_validate(body)
    except Unfit as exc:
        fields = NewHousehold.model_json_schema()["properties"]
        errors: dict[str, list[str]] = {}
        for error in exc.errors(include_url=False, include_input=False):
            name = str(error["loc"][0]) if error["loc"] else ""
            if name in fields and name not in errors:
                errors[name] = [_("must be %(what)s", what=expected(_plain(fields[name])))]
            elif not name:
                errors[""] = [_("Send a JSON object.")]
        raise ValidationError(errors) from None


def _plain(schema: dict) -> dict:
    """A field's schema without "or null" (the words say what to send)."""
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return _plain(option)
    if isinstance(schema.get("type"), list):
        return {**schema, "type": next(t for t in schema["type"] if t != "null")}
    return schema
