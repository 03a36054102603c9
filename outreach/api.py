"""The JSON API blueprint (/api/v1), shared by the areas that add routes to it.

Authentication: a personal token (``Authorization: Bearer <token>``), or the session cookie with
the CSRF token in an ``X-CSRFToken`` header (the field app's pages).

What a route reads from the query string or the body is declared once (a pydantic model): read here,
and stated by the OpenAPI document (outreach/openapi.py), so the two cannot drift apart. Anything
that does not fit is a 4xx naming what to send, never a 500.
"""

from typing import TypeVar

from flask import Blueprint, abort, current_app, jsonify, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as Unfit
from pydantic.json_schema import GenerateJsonSchema

from outreach.errors import ValidationError
from outreach.extensions import csrf

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)

NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store a NUL character in text, nor search for one


@api_bp.before_request
def refuse_too_large():
    # Routes read their body with get_json(silent=True), which would hide the size limit as "not JSON".
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and request.content_length is not None and request.content_length > limit:
        abort(413)


@api_bp.before_request
def authenticate():
    if request.endpoint == "api.openapi_json":
        return None  # the description of the API is public
    if not current_user.is_authenticated:
        return jsonify({"error": "unauthorized", "message": _("Log in, or send Authorization: Bearer <token>.")}), 401
    # A browser session must prove the request came from our pages; a bearer token already does.
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.headers.get("Authorization", "").startswith(
        "Bearer "
    ):
        csrf.protect()
    return None


def validation_response(exc: ValidationError):
    errors = {k: [str(m) for m in v] for k, v in exc.errors.items()}
    message = " ".join(m for messages in errors.values() for m in messages)
    return jsonify({"error": "invalid", "message": message, "errors": errors}), 422


# --- query parameters --------------------------------------------------------------------------------------


class Query(BaseModel):
    """The query parameters of a route. Other parameters are ignored (``lang``, a cache buster)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


Q = TypeVar("Q", bound=Query)


def read_query(declared: type[Q]) -> Q:
    """The query string read by its declaration. A value that does not fit it, or a parameter sent
    twice, is answered 400 with what to send instead."""
    sent = request.args
    for name in declared.model_fields:
        if len(sent.getlist(name)) > 1:
            abort(_bad_parameter(declared, name))
    try:
        return declared.model_validate({name: sent[name] for name in declared.model_fields if name in sent})
    except Unfit as exc:
        abort(_bad_parameter(declared, str(exc.errors()[0]["loc"][0])))


def _bad_parameter(declared: type[Query], name: str):
    schema = query_schemas(declared)[name]
    message = _("The parameter “%(name)s” must be %(what)s, sent once.", name=name, what=expected(schema))
    return make_response(jsonify({"error": "bad_request", "message": message}), 400)


def expected(schema: dict) -> str:
    """What a value of a JSON Schema is, in words (the limits are the declared ones)."""
    if "enum" in schema:
        return _("one of: %(values)s", values=", ".join(map(str, schema["enum"])))
    if schema.get("type") == "integer":
        return _("a whole number from %(low)s to %(high)s", low=schema["minimum"], high=schema["maximum"])
    if schema.get("type") == "number":
        return _("a number from %(low)s to %(high)s", low=schema["minimum"], high=schema["maximum"])
    if schema.get("type") == "boolean":
        return _("true or false")
    return _("text of at most %(n)s characters, without NUL", n=schema["maxLength"])


class WithoutFieldTitles(GenerateJsonSchema):
    def field_title_should_be_set(self, schema) -> bool:
        return False  # a title would only repeat the field's name


def body_schema(declared: type[BaseModel]) -> dict:
    """The JSON Schema of a body, as the OpenAPI document states it."""
    return declared.model_json_schema(schema_generator=WithoutFieldTitles)


def query_schemas(declared: type[Query]) -> dict[str, dict]:
    """Each parameter's JSON Schema, as the OpenAPI document states it."""
    properties = body_schema(declared)["properties"]
    return {
        name: {k: v for k, v in schema.items() if (k, v) != ("default", None)} for name, schema in properties.items()
    }


def query_parameters(declared: type[Query]) -> list[dict]:
    """The OpenAPI ``parameters`` of a route's query string."""
    parameters = []
    for name, schema in query_schemas(declared).items():
        parameter = {"name": name, "in": "query", "schema": schema}
        if "description" in schema:
            parameter["description"] = schema.pop("description")
        parameters.append(parameter)
    return parameters
