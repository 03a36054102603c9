"""What ``create_app`` adds for running the app in production (``init_app``): the trusted proxies, the
request id, metrics and the log line of every request, fingerprinted static files, JSON logs, and the
health, readiness and metrics routes."""

import logging
import time

import sqlalchemy as sa
from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from outreach.ops import logs, metrics, static
from outreach.ops.routes import UNLOGGED, ops_bp

request_log = logging.getLogger("outreach.request")


class TrustedProxies:
    """Believe the ``X-Forwarded-For``, ``-Proto``, ``-Host`` and ``-Port`` that exactly
    ``TRUSTED_PROXIES`` proxies added (nginx: 1), so the limiter, the audit log and login throttling see
    the phone's address. What a client wrote there itself, before the proxies, is ignored; with 0 (the
    default, no proxy in front) every such header is."""

    def __init__(self, app: Flask):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self._fixed: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        hops = int(self.app.config.get("TRUSTED_PROXIES") or 0)
        if hops <= 0:
            return self.wsgi_app(environ, start_response)
        if hops not in self._fixed:
            self._fixed[hops] = ProxyFix(self.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
        return self._fixed[hops](environ, start_response)


def _start_request() -> None:
    g.request_id = logs.new_request_id()
    g.request_started = time.perf_counter()


def _user_id() -> int | None:
    """The id of the user this request already loaded, if any: logging never loads a user, nor reloads
    one that a commit expired (the id is read from the session's identity map, without a query)."""
    state = sa.inspect(g.get("_login_user"), raiseerr=False)  # None for the anonymous user
    return state.identity[0] if state is not None and state.identity else None


def _finish_request(response):
    response.headers["X-Request-Id"] = g.get("request_id", "")
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started is not None else 0.0
    rule = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    metrics.observe_request(request.endpoint, rule, request.method, response.status_code, seconds)
    if request.endpoint == metrics.SYNC_ENDPOINT:
        metrics.observe_sync(g.get("sync_statuses") or {})  # left by the route: the answer is not read again
    if request.endpoint not in UNLOGGED:
        request_log.info(
            "request",
            extra={
                "request_id": g.get("request_id"),
                "user_id": _user_id(),
                "method": request.method,
                "route": rule,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
    return response


def init_app(app: Flask) -> None:
    app.wsgi_app = TrustedProxies(app)  # type: ignore[method-assign]
    if app.config.get("LOG_JSON"):
        logs.configure()
    static.init_app(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)  # first, so every error page has the id
    app.after_request(_finish_request)
    app.register_blueprint(ops_bp)
