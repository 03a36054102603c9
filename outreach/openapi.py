"""The machine-readable description of the JSON API (OpenAPI 3.1). A test keeps it true: every
route is described, every described route exists, and real answers validate against it. A visit
record is described by the declaration the server checks it against (outreach/visits/payload.py)."""

from flask import jsonify

from outreach.api import api_bp, body_schema, query_parameters
from outreach.geo.api import HouseholdsQuery, NewHousehold, UnitsQuery
from outreach.planning.api import PositionQuery
from outreach.types import MAX_INTEGER
from outreach.visits.payload import json_schemas as visit_schemas

_ERRORS = {"type": "object", "additionalProperties": {"type": "string"}}
_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {
            "type": "string",
            "description": "bad_request, unauthorized, forbidden, not_found, method_not_allowed, too_large, "
            "invalid (422, and 400 for a sync body), too_many (a batch of more than 500), too_many_requests, "
            "server_error",
        },
        "message": {"type": "string", "description": "What was wrong and what to do, in the user's language."},
        "errors": {
            "type": "object",
            "description": "Messages by field (422).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}

SYNC_RESPONSE = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["client_id", "status", "errors"],
                "properties": {
                    "client_id": {"type": "string"},
                    "status": {"enum": ["created", "duplicate", "rejected"]},
                    "errors": _ERRORS,
                    "notes": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Stored, but not all of it: by field, what was left out and why "
                        "(a disability without the resident's consent is only counted for the village).",
                    },
                },
            },
        }
    },
}

ASSIGNMENTS_RESPONSE = {
    "type": "object",
    "required": ["today", "assignments"],
    "properties": {
        "today": {"type": "string", "format": "date"},
        "assignments": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "household_id",
                    "head_name",
                    "address",
                    "village",
                    "phone",
                    "lat",
                    "lon",
                    "due_on",
                    "leg_m",
                ],
                "properties": {
                    "household_id": {"type": "integer"},
                    "head_name": {"type": "string"},
                    "address": {"type": "string"},
                    "village": {"type": "string"},
                    "phone": {"type": ["string", "null"]},
                    "lat": {"type": ["number", "null"]},
                    "lon": {"type": ["number", "null"]},
                    "due_on": {"type": "string", "format": "date"},
                    "leg_m": {"type": ["integer", "null"], "description": "Metres from the previous stop (geodesic)."},
                },
            },
        },
    },
}

UNIT = {
    "type": "object",
    "required": ["id", "code", "dataset", "level", "kind", "name", "parent_id", "lat", "lon"],
    "properties": {
        "id": {"type": "integer"},
        "code": {"type": "string"},
        "dataset": {"enum": ["2025", "legacy"]},
        "level": {"enum": ["province", "district", "commune", "village"]},
        "kind": {"type": "string"},
        "name": {"type": "string"},
        "parent_id": {"type": ["integer", "null"]},
        "lat": {"type": ["number", "null"]},
        "lon": {"type": ["number", "null"]},
        "households": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Unit"}},
        "formerly": {
            "type": "array",
            "items": {"type": "string"},
            "description": "In a search: the communes before 1/7/2025, named as the query, that this one took in.",
        },
    },
}

HOUSEHOLD = {
    "type": "object",
    "required": [
        "id",
        "village_id",
        "village",
        "head_name",
        "address",
        "phone",
        "members",
        "lat",
        "lon",
        "notes",
        "consent",
        "updated_at",
    ],
    "properties": {
        "id": {"type": "integer"},
        "village_id": {"type": "integer"},
        "village": {"type": "string"},
        "head_name": {"type": "string"},
        "address": {"type": "string"},
        "phone": {"type": ["string", "null"], "description": "E.164 (+84...)"},
        "members": {"type": "integer"},
        "lat": {"type": ["number", "null"]},
        "lon": {"type": ["number", "null"]},
        "notes": {"type": "string"},
        "consent": {
            "type": "object",
            "properties": {"store_phone": {"type": "boolean"}, "receive_sms": {"type": "boolean"}},
        },
        "updated_at": {"type": "string", "format": "date-time"},
    },
}

POSSIBLE_DUPLICATE = {
    "type": "object",
    "required": ["error", "message", "candidates"],
    "properties": {
        "error": {"const": "possible_duplicate"},
        "message": {"type": "string"},
        "candidates": {"type": "array", "items": {"$ref": "#/components/schemas/Household"}},
    },
}


def _json(schema: dict | str) -> dict:
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    return {"content": {"application/json": {"schema": schema}}}


# Every refusal under /api/ is JSON ({"error": code, "message": ...}); these may answer any operation.
_REFUSALS = {
    "400": "The request could not be read: not JSON, or a query parameter that does not fit",
    "401": "Not logged in",
    "403": "Your role cannot do this",
    "404": "Unknown, or outside your area",
    "405": "This address does not take this method (the Allow header lists those it takes)",
    "413": "The body is larger than the server accepts",
    "429": "Too many requests: wait a moment, then send again",
    "500": "The server could not finish; nothing was half-saved: send again in a moment",
}


_EXTRA_REFUSALS = {"422": "Fields that do not fit, each with a message (errors)"}


def _refusals(*statuses: str, public: bool = False) -> dict:
    """The JSON error answers of an operation: those every operation may give, and ``statuses``."""
    shown = {**_REFUSALS, **{status: _EXTRA_REFUSALS[status] for status in statuses}}
    if public:  # no login needed, so none refused for it
        shown = {status: text for status, text in shown.items() if status not in ("401", "403")}
    return {status: {"description": text, **_json("Error")} for status, text in sorted(shown.items())}


def _ok(description: str, schema, *statuses: str) -> dict:
    return {"200": {"description": description, **_json(schema)}, **_refusals(*statuses)}


_INT_PATH = [
    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INTEGER}}
]

SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "Outreach API",
        "version": "1",
        "description": "The field app of Vietnam's community digital technology teams. Every answer is limited "
        "to the caller's area (a household outside it is 404).",
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "A personal token (flask --app outreach users token NAME).",
            },
            "session": {
                "type": "apiKey",
                "in": "header",
                "name": "X-CSRFToken",
                "description": "The app's session cookie and its CSRF token.",
            },
        },
        "schemas": {
            "Error": _ERROR,
            **visit_schemas(),  # "Visit" and the "Location" it refers to
            "SyncResponse": SYNC_RESPONSE,
            "Assignments": ASSIGNMENTS_RESPONSE,
            "Unit": UNIT,
            "Household": HOUSEHOLD,
            "NewHousehold": body_schema(NewHousehold),
            "PossibleDuplicate": POSSIBLE_DUPLICATE,
        },  # fmt: skip
    },
    "security": [{"bearer": []}, {"session": []}],
    "paths": {
        "/me": {
            "get": {
                "summary": "Who is calling, with their role and unit",
                "responses": _ok("The user", {"type": "object"}),
            }
        },
        "/units": {
            "get": {
                "summary": "Search units in your area (no diacritics needed)",
                "parameters": query_parameters(UnitsQuery),
                "responses": _ok(
                    "Units",
                    {
                        "type": "object",
                        "properties": {"units": {"type": "array", "items": {"$ref": "#/components/schemas/Unit"}}},
                    },
                ),
            }
        },
        "/units/{id}": {
            "get": {
                "summary": "A unit and its children with household counts",
                "parameters": _INT_PATH,
                "responses": _ok("The unit", "Unit"),
            }
        },
        "/households": {
            "get": {
                "summary": "Households of your area",
                "parameters": query_parameters(HouseholdsQuery),
                "responses": _ok(
                    "A page of households",
                    {
                        "type": "object",
                        "properties": {
                            "total": {"type": "integer"},
                            "page": {"type": "integer"},
                            "households": {"type": "array", "items": {"$ref": "#/components/schemas/Household"}},
                        },
                    },
                ),
            },  # fmt: skip
            "post": {
                "summary": "Register a household",
                "requestBody": {"required": True, **_json("NewHousehold")},
                "responses": {
                    "201": {"description": "Created", **_json("Household")},
                    "409": {
                        "description": "Possible duplicates (send confirm_duplicate to save anyway)",
                        **_json("PossibleDuplicate"),
                    },
                    **_refusals("422"),
                },
            },
        },
        "/households/{id}": {
            "get": {"summary": "One household", "parameters": _INT_PATH, "responses": _ok("The household", "Household")}
        },
        "/assignments": {
            "get": {
                "summary": "My walk list for today, in walking order",
                "parameters": query_parameters(PositionQuery),
                "responses": _ok("The walk list", "Assignments"),
            }
        },
        "/visits/sync": {
            "post": {
                "summary": "Send visits recorded on the phone (at most 500); answered record by record",
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "required": ["visits"],
                            "properties": {
                                "visits": {
                                    "type": "array",
                                    "maxItems": 500,
                                    "items": {
                                        # A phone's batch never stalls: a record that is no Visit is
                                        # answered "rejected" on its own, and the others are stored.
                                        "anyOf": [
                                            {"$ref": "#/components/schemas/Visit"},
                                            {"description": "Anything else: rejected, with messages by field"},
                                        ]
                                    },
                                }
                            },
                        }
                    ),
                },
                "responses": {
                    **_ok(
                        "One result per record, in order: created, duplicate (sent before) or rejected (with errors)",
                        "SyncResponse",
                    ),
                    "400": {"description": "Not a {visits: [...]} body", **_json("Error")},
                    "413": {"description": "More than 500 visits, or a larger body than accepted", **_json("Error")},
                },
            }
        },
        "/visits/{client_id}": {
            "get": {
                "summary": "One visit record in the form the phone sends (to start a correction from it)",
                "parameters": [
                    {
                        "name": "client_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "responses": _ok("The record", "Visit"),
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This description",
                "security": [],
                "responses": {
                    "200": {"description": "OpenAPI 3.1", **_json({"type": "object"})},
                    **_refusals(public=True),
                },
            }
        },
    },
}


@api_bp.get("/openapi.json")
def openapi_json():
    return jsonify(SPEC)
