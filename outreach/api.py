"""The JSON API blueprint (/api/v1), shared by the areas that add routes to it.

Authentication: a personal token (``Authorization: Bearer <token>``), or the session cookie with
the CSRF token in an ``X-CSRFToken`` header (the field app's pages).
"""

from flask import Blueprint, abort, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from outreach.errors import ValidationError
from outreach.extensions import csrf

api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


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
    return jsonify({"error": "invalid", "errors": {k: [str(m) for m in v] for k, v in exc.errors.items()}}), 422
