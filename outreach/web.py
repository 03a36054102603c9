"""What every request shares: who is logged in, language, dates, security headers, error pages."""

from datetime import date, datetime

from flask import Flask, jsonify, render_template, request, session
from flask.json.provider import DefaultJSONProvider
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from outreach.auth.permissions import may
from outreach.errors import Forbidden, NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.phone import display_phone
from outreach.labels import (
    ACTION_LABELS,
    DATASET_LABELS,
    FILTER_LABELS,
    GUIDE_LABELS,
    HELP_LABELS,
    LEVEL_LABELS,
    OBSTACLE_LABELS,
    OUTCOME_LABELS,
    ROLE_LABELS,
    SMS_BLOCK_LABELS,
    SMS_ENCODING_LABELS,
    SMS_ERROR_LABELS,
    SMS_NOTE_LABELS,
    SMS_STATUS_LABELS,
)


def distance(metres: float) -> str:
    """250 m, or 2,1 km beyond a kilometre (decimal comma in Vietnamese)."""
    if metres < 1000:
        return f"{round(metres / 10) * 10:.0f} m"
    return f"{format_decimal(round(metres / 1000, 1))} km"


def unit_place(unit) -> str:
    """A village with its commune ("Tổ dân phố 1, Phường Tân Hà"), other units alone."""
    if unit.level == "village" and unit.parent is not None:
        return f"{unit.name}, {unit.parent.name}"
    return unit.name


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests",
    500: "server_error",
}  # fmt: skip


def _error(status: int, title: str, message: str):
    """An error page, or under ``/api/`` (and for clients asking for JSON) ``{"error": code, "message": ...}``."""
    if _wants_json():
        return jsonify({"error": ERROR_CODES.get(status, "error"), "message": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


class BoundedJSONProvider(DefaultJSONProvider):
    """JSON nested deeper than Python's recursion limit is unreadable input (a 400), not a crash."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


def init_app(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    @app.template_filter("d")
    def format_day(value: date | datetime | None) -> str:
        """dd/mm/yyyy in every language (the way Vietnamese forms write dates)."""
        if value is None:
            return ""
        return format_date(value, "dd/MM/yyyy")

    @app.template_filter("dt")
    def format_moment(value: datetime | None) -> str:
        if value is None:
            return ""
        return format_datetime(value, "dd/MM/yyyy HH:mm")

    app.jinja_env.filters["phone"] = display_phone
    app.jinja_env.filters["unit_place"] = unit_place
    app.jinja_env.filters["distance"] = distance
    app.jinja_env.filters["n"] = format_decimal  # 170.531 in Vietnamese, 170,531 in English
    app.jinja_env.globals.update(
        ROLE_LABELS=ROLE_LABELS,
        LEVEL_LABELS=LEVEL_LABELS,
        DATASET_LABELS=DATASET_LABELS,
        ACTION_LABELS=ACTION_LABELS,
        OUTCOME_LABELS=OUTCOME_LABELS,
        HELP_LABELS=HELP_LABELS,
        GUIDE_LABELS=GUIDE_LABELS,
        OBSTACLE_LABELS=OBSTACLE_LABELS,
        FILTER_LABELS=FILTER_LABELS,
        SMS_STATUS_LABELS=SMS_STATUS_LABELS,
        SMS_BLOCK_LABELS=SMS_BLOCK_LABELS,
        SMS_ERROR_LABELS=SMS_ERROR_LABELS,
        SMS_ENCODING_LABELS=SMS_ENCODING_LABELS,
        SMS_NOTE_LABELS=SMS_NOTE_LABELS,
        can=lambda action: may(current_user, action),  # what the interface offers the user's role
    )

    @app.context_processor
    def language():
        return {"lang": str(get_locale() or "vi"), "current_user": current_user}

    @app.before_request
    def keep_language_choice():
        chosen = request.args.get("lang")
        if chosen in ("vi", "en"):
            session["lang"] = chosen

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(NotFound)
    @app.errorhandler(404)
    def not_found(_exc):
        return _error(404, _("Not found"), _("This page or record does not exist, or is outside your area."))

    @app.errorhandler(ValidationError)
    def invalid(exc):
        message = " ".join(str(m) for messages in exc.errors.values() for m in messages)
        return _error(400, _("Cannot do this"), message)

    @app.errorhandler(Forbidden)
    @app.errorhandler(403)
    def forbidden(_exc):
        return _error(403, _("Not allowed"), _("Your role cannot do this. Ask your commune leader or administrator."))

    @app.errorhandler(CSRFError)
    def csrf_failed(_exc):
        return _error(
            400, _("Form expired"), _("The form was too old or incomplete. Go back, reload the page and try again.")
        )

    @app.errorhandler(413)
    def too_large(_exc):
        return _error(
            413,
            _("File too large"),
            _("The file is larger than the limit of %(mb)s MB.", mb=app.config["MAX_CONTENT_LENGTH"] // 2**20),
        )

    @app.errorhandler(429)
    def too_many(_exc):
        return _error(
            429,
            _("Too many attempts"),
            _(
                "Too many login attempts from this device. Wait a few minutes, then try again; if you forgot your password, ask your commune leader or administrator."  # noqa: E501
            ),
        )

    @app.errorhandler(405)
    def wrong_method(_exc):
        return _error(405, _("Not possible here"), _("This address does not accept this kind of request."))

    @app.errorhandler(HTTPException)
    def other_http_error(exc: HTTPException):
        # Any other refusal (400 bad request, 415 ...) in the user's language, never Werkzeug's English page.
        status = exc.code or 400
        return _error(status, _("Cannot do this"), _("The request could not be read. Check it and send it again."))

    @app.errorhandler(500)
    def server_error(_exc):
        db.session.rollback()
        return _error(
            500,
            _("Something went wrong"),
            _("The server could not finish this. Nothing was half-saved: try again in a moment."),
        )

    @app.teardown_request
    def rollback_unfinished(exc):
        if exc is not None:
            db.session.rollback()
