from flask import Blueprint, render_template
from flask_login import current_user, login_required

from outreach.auth.models import Role
from outreach.auth.scope import get_household, require_role
from outreach.planning.services import get_campaign
from outreach.visits import progress as progress_service
from outreach.visits.services import visit_history
from outreach.web import local_today

visits_bp = Blueprint("visits", __name__)


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


@visits_bp.get("/campaigns/<int:campaign_id>")
def progress(campaign_id: int):
    campaign = get_campaign(current_user, campaign_id)
    today = local_today()
    villages = progress_service.progress_by_village(campaign, today=today)
    members = progress_service.progress_by_member(campaign, today=today)
    return render_template(
        "visits/progress.html",
        campaign=campaign,
        villages=villages,
        members=members,
        total=progress_service.total(villages),
        today=today,
    )
