"""JSON API routes for units and households (the blueprint and its authentication: outreach.api)."""

from flask import jsonify, request
from flask_login import current_user

from outreach.api import api_bp, validation_response
from outreach.auth.scope import get_household, get_unit
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo import services
from outreach.geo.models import AdminUnit, Household, Purpose
from outreach.types import utcnow


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


def _number(body: dict, name: str) -> float | None:
    value = body.get(name)
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    raise ValidationError({name: ["must be a number"]})


@api_bp.get("/me")
def me():
    unit = current_user.scope_unit
    return jsonify(
        {"username": current_user.username, "role": current_user.role, "unit": unit_json(unit) if unit else None}
    )


@api_bp.get("/units")
def units():
    query = request.args.get("q", "")
    found = services.search_units(current_user, query, level=request.args.get("level"))
    formerly = services.former_names(found, query)
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
def households():
    found = services.list_households(
        current_user,
        query=request.args.get("q", ""),
        village_id=request.args.get("village_id", type=int),
        page=request.args.get("page", 1, type=int),
        per_page=100,
    )
    return jsonify({"total": found.total, "page": found.page, "households": [household_json(h) for h in found]})


@api_bp.get("/households/<int:household_id>")
def household(household_id: int):
    return jsonify(household_json(get_household(current_user, household_id)))


@api_bp.post("/households")
def create_household():
    body = request.get_json(silent=True) or {}
    try:
        data = services.HouseholdInput(
            village_id=body.get("village_id"),
            head_name=str(body.get("head_name", "")),
            address=str(body.get("address", "")),
            phone=str(body.get("phone") or ""),
            members=body.get("members", 1) if isinstance(body.get("members", 1), int) else None,
            lat=_number(body, "lat"),
            lon=_number(body, "lon"),
            notes=str(body.get("notes", "")),
            consent_store_phone=body.get("consent_store_phone") is True,
            consent_sms=body.get("consent_sms") is True,
        )
        created = services.create_household(
            current_user, data, now=utcnow(), confirm_duplicate=body.get("confirm_duplicate") is True
        )
    except ValidationError as exc:
        return validation_response(exc)
    except services.DuplicateWarning as warning:
        return jsonify(
            {"error": "possible_duplicate", "candidates": [household_json(h) for h in warning.candidates]}
        ), 409
    db.session.commit()
    return jsonify(household_json(created)), 201
