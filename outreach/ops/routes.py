from flask import Blueprint, abort, current_app, jsonify, request

from outreach.clock import utcnow
from outreach.ops import metrics
from outreach.ops.health import readiness

ops_bp = Blueprint("ops", __name__)

# Asked every few seconds by nginx, Prometheus and the service manager: not worth a log line each.
UNLOGGED = {"ops.healthz", "ops.readyz", "ops.metrics_page"}


@ops_bp.get("/healthz")
def healthz():
    """The process answers (nothing else is asked: a database outage must not restart the web server)."""
    return {"status": "ok"}


@ops_bp.get("/readyz")
def readyz():
    """Ready for traffic: the database answers, its schema is the code's, a scheduler is alive; 503 with the
    reasons otherwise."""
    state = readiness(now=utcnow())
    return jsonify(state.as_json()), 200 if state.ready else 503


@ops_bp.get("/metrics")
def metrics_page():
    if not metrics.allowed(request.remote_addr, current_app.config["METRICS_ALLOWED"]):
        abort(404)  # as if there were nothing here
    body, content_type = metrics.render(utcnow())
    return current_app.response_class(body, content_type=content_type, headers={"Cache-Control": "no-store"})
