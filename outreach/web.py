"""What every request shares: who is logged in, language, dates, security headers, error pages."""

import gzip
import math
import secrets
from datetime import date, datetime
from functools import cached_property
from urllib.parse import urlsplit

from flask import Flask, Response, g, jsonify, make_response, render_template, request, session
from flask import Request as FlaskRequest
from flask.json.provider import DefaultJSONProvider
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import CombinedMultiDict, ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

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
    role_label,
)
from outreach.types import MAX_INTEGER


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


# Geolocation for the app itself (a visit's position, the walk from here); nothing else a page could ask for.
PERMISSIONS_POLICY = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"


def csp_nonce() -> str:
    """This response's nonce, for a template's inline <script nonce="..."> (folium's map code, a few lines
    of a page). Made when first asked for; the header names it only then."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def _tile_source(tiles_url: str) -> str | None:
    """The origin the map tiles come from ("https://tile.openstreetmap.org"; {s} subdomains as *)."""
    parts = urlsplit(tiles_url.replace("{s}", "x-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.replace('x-subdomain', '*')}"


def content_security_policy(config, nonce: str | None) -> str:
    """Scripts only from the app (and inline ones carrying this response's nonce), never eval; images
    from the app and the tile server; no frames of the app anywhere. Styles may be inline: Leaflet,
    folium's popups and the guide pages write style attributes and <style> blocks, and a style cannot
    run code."""
    scripts = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    tiles = _tile_source(config.get("MAP_TILES_URL") or "")
    directives = {
        "default-src": "'self'",
        "script-src": scripts,
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:" + (f" {tiles}" if tiles else ""),
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "worker-src": "'self'",
        "manifest-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid", 429: "too_many_requests",
    500: "server_error",
}  # fmt: skip


def _error(status: int, title: str, message: str) -> Response:
    """An error page, or under ``/api/`` (and for clients asking for JSON) ``{"error": code, "message": ...}``."""
    if _wants_json():
        return make_response(jsonify({"error": ERROR_CODES.get(status, "error"), "message": message}), status)
    return make_response(render_template("errors/error.html", status=status, title=title, message=message), status)


class BoundedJSONProvider(DefaultJSONProvider):
    """JSON nested deeper than Python's recursion limit is unreadable input (a 400), not a crash."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


def _whole_number(text: str) -> int:
    value = int(text)
    if not -MAX_INTEGER <= value <= MAX_INTEGER:
        raise ValueError(text)
    return value


def _finite_number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


_IN_RANGE = {int: _whole_number, float: _finite_number}


def _in_range(kind):
    return _IN_RANGE.get(kind, kind)


class ValuesInRange(ImmutableMultiDict):
    """Query and form values: read with ``type=int`` or ``type=float`` (``request.args.get("page",
    type=int)``), a number the database cannot hold (2^64), NaN or Infinity reads as missing, the
    way a word does, instead of reaching a query and failing there."""

    def get(self, key, default=None, type=None):  # type: ignore[override]  # noqa: A002 - MultiDict's own signature
        return super().get(key, default, _in_range(type))

    def getlist(self, key, type=None):  # noqa: A002
        return super().getlist(key, _in_range(type))


class CombinedValuesInRange(CombinedMultiDict):
    """``request.values`` (query and form together), numbers read as ``ValuesInRange`` reads them."""

    def get(self, key, default=None, type=None):  # type: ignore[override]  # noqa: A002
        return super().get(key, default, _in_range(type))

    def getlist(self, key, type=None):  # noqa: A002
        return super().getlist(key, _in_range(type))


class BoundedRequest(FlaskRequest):
    parameter_storage_class = ValuesInRange

    @cached_property
    def values(self) -> CombinedValuesInRange:
        """``args``, and ``form`` but for a GET, as Werkzeug's, with numbers read in range."""
        return CombinedValuesInRange([self.args] if self.method == "GET" else [self.args, self.form])


class IdConverter(IntegerConverter):
    """``<int:...>`` in an address: a number the database can hold; a larger one is "not found"."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - Werkzeug's own signature
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(map, *args, **kwargs)


# Text worth compressing for a phone on a slow network; images and downloads are compressed already.
GZIP_TYPES = frozenset(
    {"text/html", "text/css", "text/javascript", "application/javascript", "application/json",
     "application/manifest+json", "application/geo+json", "image/svg+xml"}
)  # fmt: skip
GZIP_MIN_BYTES = 1024  # below this, the gzip header and the work cost more than they save


def compress(response: Response) -> Response:
    """Gzip an HTML, JSON, CSS or JS response above ``GZIP_MIN_BYTES`` when the client accepts it (the
    proxy in the deployment kit leaves a compressed body as it is). ``Vary: Accept-Encoding`` on every
    response that could be compressed, so a cache never hands a compressed body to a client that did
    not ask for one."""
    if response.mimetype not in GZIP_TYPES or response.status_code in (204, 206, 304) or response.status_code < 200:
        return response
    if response.is_streamed and not response.direct_passthrough:
        return response  # a generator (a CSV streamed row by row): left as it goes
    response.vary.add("Accept-Encoding")
    if "Content-Encoding" in response.headers or "gzip" not in request.accept_encodings:
        return response
    response.direct_passthrough = False  # a static file: read it, to send it compressed
    body = response.get_data()
    if len(body) < GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    etag, _weak = response.get_etag()
    if etag:  # the same content in another encoding: a weak tag, so If-None-Match still answers 304
        response.set_etag(etag, weak=True)
    return response


def init_app(app: Flask) -> None:
    """Before the areas register their routes: the address converter is chosen when a route is added."""
    app.json = BoundedJSONProvider(app)
    app.request_class = BoundedRequest
    app.url_map.converters["int"] = IdConverter
    # Registered first, so it runs last: every other hook has finished with the body.
    app.after_request(compress)

    @app.template_filter("d")
    def format_day(value: date | datetime | None) -> str:
        """dd/mm/yyyy in every language (the way Vietnamese forms write dates)."""
        if value is None:
            return ""
        try:
            return format_date(value, "dd/MM/yyyy")
        except OverflowError:  # a moment at the very end of the calendar, stored before dates were checked
            return f"{value.day:02}/{value.month:02}/{value.year:04}"

    @app.template_filter("dt")
    def format_moment(value: datetime | None) -> str:
        if value is None:
            return ""
        try:
            return format_datetime(value, "dd/MM/yyyy HH:mm")
        except OverflowError:  # shown in its own zone, which the local one would push off the calendar
            return f"{value.day:02}/{value.month:02}/{value.year:04} {value.hour:02}:{value.minute:02}"

    app.jinja_env.filters["phone"] = display_phone
    app.jinja_env.filters["unit_place"] = unit_place
    app.jinja_env.filters["distance"] = distance
    app.jinja_env.filters["n"] = format_decimal  # 170.531 in Vietnamese, 170,531 in English
    app.jinja_env.globals.update(
        ROLE_LABELS=ROLE_LABELS,
        role_label=role_label,
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

    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.before_request
    def refuse_nul():
        # PostgreSQL can neither store nor search for a NUL character, and no form or address holds one.
        # (The API's parameters say so themselves, naming the one at fault: outreach/api.py.)
        if request.path.startswith("/api/"):
            return None
        sent = request.args if request.method in ("GET", "HEAD") else request.values
        if any("\x00" in name or "\x00" in value for name, value in sent.items(multi=True)):
            return _error(
                400,
                _("Cannot do this"),
                _("The request holds a character that cannot be stored (NUL). Remove it and send again."),
            )
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", content_security_policy(app.config, g.get("csp_nonce")))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if app.config.get("HSTS_SECONDS"):
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_SECONDS']}")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(NotFound)
    @app.errorhandler(404)
    def not_found(_exc):
        if not current_user.is_authenticated:  # a resident following a link: no "area" of theirs to speak of
            return _error(404, _("Not found"), _("This page does not exist. Check the link in your message."))
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
        if request.path.startswith("/api/"):
            return _error(429, _("Too many attempts"), _("Too many requests: wait a moment, then send again."))
        return _error(
            429,
            _("Too many attempts"),
            _(
                "Too many login attempts from this device. Wait a few minutes, then try again; if you forgot your password, ask your commune leader or administrator."  # noqa: E501
            ),
        )

    @app.errorhandler(405)
    def wrong_method(exc):
        response = _error(405, _("Not possible here"), _("This address does not accept this kind of request."))
        if getattr(exc, "valid_methods", None):  # the methods it does accept (RFC 9110)
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

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
