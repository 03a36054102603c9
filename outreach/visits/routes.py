from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from outreach.auth.models import Role
from outreach.auth.scope import get_household, require_role
from outreach.clock import local_today, utcnow
from outreach.extensions import db
from outreach.geo.signals import consent_withdrawn, household_erased, household_exported
from outreach.labels import TIME_LABELS
from outreach.planning.services import acknowledge_taken_away, moved_away, taken_away, upcoming, walk_list
from outreach.visits import sensitive
from outreach.visits.services import visit_history, visits_recorded_on

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


# The walk list a phone shows at once: a day's walk is far shorter; more would only weigh on a slow network.
TODAY_STOPS = 300


@visits_bp.get("/today")
def today():
    if current_user.role not in (Role.MEMBER, Role.LEADER):
        return redirect(url_for("home.index"))
    day = local_today()
    lat, lon = request.args.get("lat", type=float), request.args.get("lon", type=float)
    position = (lat, lon) if lat is not None and lon is not None else None
    stops = walk_list(current_user, today=day, position=position)
    return render_template(
        "visits/today.html", stops=stops[:TODAY_STOPS], more=max(0, len(stops) - TODAY_STOPS), day=day,
        later=upcoming(current_user, today=day),
        TIME_LABELS=TIME_LABELS,
        taken=taken_away(current_user), moved=moved_away(current_user), position=position,
        done=visits_recorded_on(current_user, day),
    )  # fmt: skip


@visits_bp.post("/today/seen")
def seen():
    acknowledge_taken_away(current_user, now=utcnow())
    db.session.commit()
    return redirect(url_for("visits.today"))
