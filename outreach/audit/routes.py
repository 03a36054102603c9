"""The audit log page (administrators): who did what to which record, when."""

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from outreach.audit.services import events_page, target_names
from outreach.labels import (
    DETAIL_LABELS,
    PURPOSE_LABELS,
    RELEASE_LABELS,
    REQUEST_STATUS_LABELS,
    RIGHT_LABELS,
    ROLE_LABELS,
)
from outreach.roles import Role

audit_bp = Blueprint("audit", __name__, url_prefix="/admin")


@audit_bp.before_request
@login_required
def only_admins():
    if current_user.role != Role.ADMIN:
        abort(403)


@audit_bp.get("/audit")
def events():
    action = request.args.get("action", "")
    found = events_page(action=action, page=request.args.get("page", 1, type=int))
    return render_template("audit/events.html", events=found, action=action, names=target_names(found.items))


def _value(key: str, value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None:
        return "—"
    if key == "role":
        return str(ROLE_LABELS.get(value, value))
    if key == "purpose":
        return str(PURPOSE_LABELS.get(value, value))
    if key == "kind" and value in RIGHT_LABELS:
        return str(RIGHT_LABELS[value])
    if key == "ids" and isinstance(value, list):
        return ", ".join(f"#{n}" for n in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if key == "why" and isinstance(value, str):
        return str(RELEASE_LABELS.get(value, value))
    if key in ("status", "previous") and isinstance(value, str):
        return str(REQUEST_STATUS_LABELS.get(value, value))
    return str(value)


@audit_bp.app_template_filter("audit_detail")
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
