"""JSON API routes for the field app: visit sync, and a stored visit to correct."""

import collections
import uuid

from flask import g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from outreach.api import api_bp
from outreach.auth.permissions import may
from outreach.extensions import db
from outreach.types import utcnow
from outreach.visits.services import MAX_BATCH, get_visit, sync_visits, visit_as_payload


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
