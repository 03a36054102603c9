"""What every request shares: who is logged in, language, dates, security headers, error pages."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, flash, jsonify, render_template, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from outreach.auth.models import User
from outreach.auth.permissions import may
from outreach.auth.services import user_for_token
from outreach.errors import Forbidden, NotFound, ValidationError
from outreach.extensions import db, login_manager
from outreach.geo.phone import display_phone
from outreach.labels import (
    ACTION_LABELS,
    DATASET_LABELS,
    DETAIL_LABELS,
    FILTER_LABELS,
    GUIDE_LABELS,
    HELP_LABELS,
    LEVEL_LABELS,
    OBSTACLE_LABELS,
    OUTCOME_LABELS,
    PURPOSE_LABELS,
    ROLE_LABELS,
    SMS_BLOCK_LABELS,
    SMS_ERROR_LABELS,
    SMS_NOTE_LABELS,
    SMS_STATUS_LABELS,
)
from outreach.types import utcnow


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


@login_manager.request_loader
def load_user_from_token(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        user = user_for_token(header[7:].strip(), now=utcnow())
        if db.session.dirty:
            db.session.commit()  # the token's last use, even when the request itself only reads
        return user
    return None


def _value(key: str, value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None:
        return "—"
    if key == "role":
        return str(ROLE_LABELS.get(value, value))
    if key == "purpose":
        return str(PURPOSE_LABELS.get(value, value))
    return str(value)


def describe_detail(detail: dict | None) -> str:
    """An audit event's details as words: "role: Commune leader → Team member; unit: 02216"."""
    if not detail:
        return ""
    if "before" in detail and "after" in detail:
        before, after = detail["before"], detail["after"]
        changes = [
            f"{DETAIL_LABELS.get(k, k)}: {_value(k, before.get(k))} → {_value(k, after.get(k))}"
            for k in after
            if before.get(k) != after.get(k)
        ]
        return "; ".join(changes)
    return "; ".join(f"{DETAIL_LABELS.get(k, k)}: {_value(k, v)}" for k, v in detail.items())


def local_today() -> date:
    """Today's date where the teams are (the server runs in UTC)."""
    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


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


def show_form_errors(form, exc: ValidationError, *, fields: dict[str, str] | None = None) -> None:
    """Put a service's errors next to the form's fields; the others (a row, the whole form) flash."""
    for name, messages in exc.errors.items():
        field = getattr(form, (fields or {}).get(name, name), None) if name else None
        if field is not None:
            field.errors = list(field.errors) + [str(m) for m in messages]
        else:
            for message in messages:
                flash(str(message), "error")


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _error(status: int, title: str, message: str):
    if _wants_json():
        return jsonify({"error": title, "message": message}), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = app.config["SESSION_PROTECTION"]

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
    app.jinja_env.filters["audit_detail"] = describe_detail
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

    @app.teardown_request
    def rollback_unfinished(exc):
        if exc is not None:
            db.session.rollback()
