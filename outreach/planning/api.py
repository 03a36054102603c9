"""JSON API routes for the field app: the member's walk list."""

from typing import Annotated

from flask import jsonify
from flask_login import current_user
from pydantic import Field, WithJsonSchema

from outreach.api import Query, api_bp, read_query
from outreach.clock import local_today
from outreach.planning.services import walk_list

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
