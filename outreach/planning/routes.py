from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms import SelectChoice

from outreach.auth.models import Role
from outreach.auth.scope import get_unit, require_role, village_choices
from outreach.auth.signals import scope_changed
from outreach.clock import local_today, utcnow
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.forms import show_form_errors
from outreach.geo.models import Level
from outreach.geo.signals import household_moved
from outreach.labels import TIME_LABELS
from outreach.planning import progress, receivers, services
from outreach.planning.forms import AssignForm, CampaignForm
from outreach.visits.services import visits_recorded_on
from outreach.visits.signals import visits_stored

planning_bp = Blueprint("planning", __name__)


@planning_bp.record_once
def _subscribe(_state) -> None:
    """What the areas below tell this one: a user's scope changed, a household moved (assignments
    follow), visits were stored (they close the member's assignments, or keep them for another try)."""
    scope_changed.connect(receivers.on_scope_changed)
    household_moved.connect(receivers.on_household_moved)
    visits_stored.connect(receivers.on_visits_stored)


@planning_bp.before_request
@login_required
def logged_in():
    pass


def _commune_for_planning():
    """The commune a leader plans (their own); an admin picks one with ?commune=ID."""
    if current_user.role == Role.LEADER:
        return current_user.scope_unit
    commune_id = request.values.get("commune", type=int)
    if current_user.role == Role.ADMIN and commune_id:
        unit = get_unit(current_user, commune_id)
        if unit.level == Level.COMMUNE:
            return unit
    return None


@planning_bp.route("/campaigns", methods=["GET", "POST"])
def campaigns():
    if current_user.role == Role.MEMBER:
        abort(403)
    commune = _commune_for_planning()
    form = None
    if commune is not None:
        form = CampaignForm()
        form.village_ids.choices = [
            SelectChoice(v.id, v.name) for v in village_choices(current_user) if v.parent_id == commune.id
        ]
        if request.method == "GET":
            form.village_ids.data = [c.value for c in form.village_ids.choices]
        if form.validate_on_submit():
            data = services.CampaignInput(
                name=form.name.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                village_ids=form.village_ids.data, goal_visited_pct=form.goal_visited_pct.data,
                goal_activated_pct=form.goal_activated_pct.data,
                nobody_home_retry_days=form.nobody_home_retry_days.data,
            )  # fmt: skip
            try:
                campaign = services.save_campaign(current_user, commune, data, now=utcnow())
            except ValidationError as exc:
                show_form_errors(form, exc)
            else:
                db.session.commit()
                flash(_("Campaign “%(name)s” created.", name=campaign.name), "success")
                return redirect(url_for("planning.campaign", campaign_id=campaign.id))
    campaigns = services.campaigns_page(current_user, page=request.args.get("page", 1, type=int))
    today = local_today()
    figures = {c.id: progress.total(progress.progress_by_village(c, today=today)) for c in campaigns}
    return render_template("planning/campaigns.html", campaigns=campaigns, figures=figures, form=form, commune=commune)


@planning_bp.route("/assign", methods=["GET", "POST"])
def assign():
    require_role(current_user, Role.LEADER)
    commune = _commune_for_planning()
    if commune is None:
        flash(_("Open a commune's page and choose “Assign households”."), "info")
        return redirect(url_for("geo.units"))
    today = local_today()
    village_id = request.values.get("village", type=int)
    which = request.values.get("which", "all")
    if which not in services.FILTERS:
        which = "all"
    form = AssignForm()
    conflicts = None  # households kept ticked after a refusal, ready to reassign
    members = services.members_of(current_user, commune)
    form.member_id.choices = [SelectChoice(0, _("— choose —"))] + [
        SelectChoice(m.id, f"{m.full_name or m.username} ({m.scope_unit.name})")
        for m in members
        if m.scope_unit is not None  # every one: members_of joins their unit
    ]
    campaigns = [c for c in services.campaigns_in_scope(current_user) if c.commune_id == commune.id]
    form.campaign_id.choices = [SelectChoice(0, _("— none —"))] + [SelectChoice(c.id, c.name) for c in campaigns]
    if request.method == "GET":
        form.due_on.data = today
        running = [c for c in campaigns if c.starts_on <= today <= c.ends_on]
        if len(running) == 1:  # the commune's one running campaign, as the leader would choose
            form.campaign_id.data = running[0].id
    if form.validate_on_submit():
        if request.form.get("whole_village") and village_id:
            chosen = [
                h.id
                for h, _a, _v in services.pick_households(
                    current_user, village_id=village_id, which=which, today=today, unit=commune
                )
            ]
        else:
            chosen = request.form.getlist("household", type=int)
        if not chosen:
            flash(_("Tick the households to assign, or use “Assign the whole list”."), "error")
        else:
            try:
                result = services.assign_households(
                    current_user, form.member_id.data, chosen, due_on=form.due_on.data, now=utcnow(),
                    campaign_id=form.campaign_id.data or None, reassign=form.reassign.data,
                )  # fmt: skip
            except ValidationError as exc:
                show_form_errors(form, exc)
            else:
                db.session.commit()
                if result.done:  # never a green "0 households assigned" beside a refusal
                    flash(
                        ngettext("%(num)s household assigned.", "%(num)s households assigned.", result.done), "success"
                    )
                if not result.conflicts:
                    return redirect(
                        url_for(
                            "planning.assign", village=village_id, which=which, commune=request.values.get("commune")
                        )
                    )
                names = ", ".join(sorted({name for _h, name in result.conflicts}))
                flash(
                    _(
                        "%(n)s households were not assigned: they are already with %(names)s. "
                        "Tick “take households from whoever has them now” to reassign them.",
                        n=len(result.conflicts),
                        names=names,
                    ),
                    "error",
                )
                conflicts = {household_id for household_id, _name in result.conflicts}
    rows = services.pick_households(current_user, village_id=village_id, which=which, today=today, unit=commune)
    ticked = conflicts if conflicts is not None else set(request.form.getlist("household", type=int))
    villages = [v for v in village_choices(current_user) if v.parent_id == commune.id]
    waiting = services.to_reassign(current_user, village_ids=[v.id for v in villages])
    return render_template(
        "planning/assign.html", form=form, rows=rows, villages=villages, village_id=village_id, which=which,
        commune=commune, today=today, filters=services.FILTERS, ticked=ticked, waiting=waiting,
    )  # fmt: skip


@planning_bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    """A campaign's progress, per village and per member."""
    chosen = services.get_campaign(current_user, campaign_id)
    today = local_today()
    villages = progress.progress_by_village(chosen, today=today)
    members = progress.progress_by_member(chosen, today=today)
    return render_template(
        "planning/progress.html",
        campaign=chosen,
        villages=villages,
        members=members,
        total=progress.total(villages),
        today=today,
    )


# The walk list a phone shows at once: a day's walk is far shorter; more would only weigh on a slow network.
TODAY_STOPS = 300


@planning_bp.get("/today")
def today():
    if current_user.role not in (Role.MEMBER, Role.LEADER):
        return redirect(url_for("home.index"))
    day = local_today()
    lat, lon = request.args.get("lat", type=float), request.args.get("lon", type=float)
    position = (lat, lon) if lat is not None and lon is not None else None
    stops = services.walk_list(current_user, today=day, position=position)
    return render_template(
        "planning/today.html", stops=stops[:TODAY_STOPS], more=max(0, len(stops) - TODAY_STOPS), day=day,
        later=services.upcoming(current_user, today=day),
        TIME_LABELS=TIME_LABELS,
        taken=services.taken_away(current_user), moved=services.moved_away(current_user), position=position,
        done=visits_recorded_on(current_user, day),
    )  # fmt: skip


@planning_bp.post("/today/seen")
def seen():
    services.acknowledge_taken_away(current_user, now=utcnow())
    db.session.commit()
    return redirect(url_for("planning.today"))
