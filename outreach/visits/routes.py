from flask import Blueprint, render_template
from flask_login import current_user, login_required

from outreach.auth.models import Role
from outreach.auth.scope import get_household, require_role
from outreach.geo.signals import consent_withdrawn, household_erased, household_exported
from outreach.visits import sensitive
from outreach.visits.services import visit_history

visits_bp = Blueprint("visits", __name__)


@visits_bp.record_once
def _subscribe(_state) -> None:
    """What geo asks of this area: a household's sensitive facts on withdrawal, its export and erasure."""
    consent_withdrawn.connect(sensitive.on_consent_withdrawn)
    household_exported.connect(sensitive.export_sensitive_facts)
    household_erased.connect(sensitive.erase_visits_of)


@visits_bp.before_request
@login_required
def logged_in():
    pass


@visits_bp.get("/record")
def record():
    """The visit form. The same page for every household (the household comes from the address),
    so the phone can keep one copy and use it offline."""
    require_role(current_user, Role.LEADER, Role.MEMBER)
    return render_template("visits/record.html")


@visits_bp.get("/households/<int:household_id>/visits")
def history(household_id: int):
    household = get_household(current_user, household_id)
    return render_template("visits/history.html", household=household, visits=visit_history(current_user, household))
