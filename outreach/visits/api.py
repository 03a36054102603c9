"""JSON API routes for the field app: the member's walk list and visit sync."""

import collections
import uuid
from typing import Annotated

from flask import g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field, WithJsonSchema

from outreach.api import Query, api_bp, read_query
from outreach.auth.permissions import may
from outreach.clock import local_today
from outreach.extensions import db
from outreach.planning.services import walk_list
from outreach.types import utcnow
from outreach.visits.services import MAX_BATCH, get_visit, sync_visits, visit_as_payload

Latitude = Annotated[
    Annotated[float, Field(ge=-90, le=90)] | None, WithJsonSchema({"type": "number", "minimum": -90, "maximum": 90})
]
Longitude = Annotated[
    Annotated[float, Field(ge=-180, le=180)] | None, WithJsonSchema({"type": "number", "minimum": -180, "maximum": 180})
]


class PositionQuery(Query):
    """Where the phone is, to start the walk there (both, or neither)."""

    lat: Latitude = Field(None, description="Start from here (degrees, WGS 84).")
    lon: Longitude = None


@api_bp.post("/visits/sync")
def sync():
    body = request.get_json(silent=True)
    records = body.get("visits") if isinstance(body, dict) else None
    if not isinstance(records, list):
        return jsonify({"error": "invalid", "message": _('Send {"visits": [ ... ]}.')}), 400
    if len(records) > MAX_BATCH:
        return jsonify({"error": "too_many", "message": _("At most %(n)s visits per request.", n=MAX_BATCH)}), 413
    results = sync_visits(current_user, records, now=utcnow())
    db.session.commit()
    g.sync_statuses = collections.Counter(r.status for r in results)  # for the metrics: the answer is not read again
    return jsonify({"results": [r.as_json() for r in results]})


@api_bp.get("/visits/<uuid:client_id>")  # only a UUID: GET /visits/sync is no route, so OPTIONS allows POST alone
def visit(client_id: uuid.UUID):
    record = get_visit(current_user, str(client_id))
    # A sensitive fact goes only to the roles that need it; a correction by anyone else keeps it
    # on the server (``sync_visits``).
    sensitive = may(current_user, "see_sensitive_facts")
    return jsonify(visit_as_payload(record, sensitive=sensitive))


@api_bp.get("/assignments")
def assignments():
    asked = read_query(PositionQuery)
    position = (asked.lat, asked.lon) if asked.lat is not None and asked.lon is not None else None
    stops = walk_list(current_user, today=local_today(), position=position)
    return jsonify(
        {
            "today": local_today().isoformat(),
            "assignments": [
                {
                    "household_id": s.household.id,
                    "head_name": s.household.head_name,
                    "address": s.household.address,
                    "village": s.household.village.name,
                    "phone": s.household.phone,
                    "lat": s.household.lat,
                    "lon": s.household.lon,
                    "due_on": s.assignment.due_on.isoformat(),
                    "leg_m": round(s.leg_m) if s.leg_m is not None else None,
                }
                for s in stops
            ],
        }
    )
