"""Campaigns, assignment of households to members, and each member's walk list."""

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import households_in_scope, manageable_commune, require_role, unit_in_scope
from outreach.clock import YEAR_AHEAD, day_range, day_start, in_day_range
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level
from outreach.planning.models import Assignment, Campaign
from outreach.planning.walk_order import Stop, walk_order
from outreach.text import clean
from outreach.visits.models import VisitRecord, current_visits, latest_visits

# --- campaigns -------------------------------------------------------------------------------


@dataclass
class CampaignInput:
    name: str
    starts_on: date | None
    ends_on: date | None
    village_ids: list[int]
    goal_visited_pct: int = 100
    goal_activated_pct: int = 80


def save_campaign(
    actor: User, commune: AdminUnit, data: CampaignInput, *, now: datetime, campaign: Campaign | None = None
) -> Campaign:
    """Create (or change) a commune's campaign: its period, target villages and goals."""
    commune = manageable_commune(actor, commune)
    errors: dict[str, list[str]] = {}
    if not clean(data.name):
        errors["name"] = [_("Give the campaign a name.")]
    if data.starts_on is None or data.ends_on is None:
        errors["starts_on"] = [_("Give the first and last day.")]
    elif data.ends_on < data.starts_on:
        errors["ends_on"] = [_("The last day is before the first day.")]
    for name in ("starts_on", "ends_on"):
        if name not in errors and (day := getattr(data, name)) and not in_day_range(day, now, YEAR_AHEAD):
            errors[name] = [_day_out_of_range(now)]
    for name in ("goal_visited_pct", "goal_activated_pct"):
        if not 0 <= getattr(data, name) <= 100:
            errors[name] = [_("A percentage from 0 to 100.")]
    villages = list(
        db.session.scalars(
            sa.select(AdminUnit).where(
                AdminUnit.id.in_(data.village_ids), AdminUnit.parent_id == commune.id, AdminUnit.level == Level.VILLAGE
            )
        )
    )
    if not villages or len(villages) != len(set(data.village_ids)):
        errors["village_ids"] = [_("Choose at least one village of %(commune)s.", commune=commune.name)]
    if errors:
        raise ValidationError(errors)
    if campaign is None:
        campaign = Campaign(commune_id=commune.id, created_by_id=actor.id, created_at=now)
        db.session.add(campaign)
    campaign.name = clean(data.name)
    campaign.starts_on, campaign.ends_on = data.starts_on, data.ends_on
    campaign.goal_visited_pct, campaign.goal_activated_pct = data.goal_visited_pct, data.goal_activated_pct
    campaign.villages = villages
    db.session.flush()
    return campaign


def _day_out_of_range(now: datetime) -> str:
    first, last = (f"{day:%d/%m/%Y}" for day in day_range(now, YEAR_AHEAD))
    return _("Choose a day from %(first)s to %(last)s.", first=first, last=last)


def campaigns_in_scope(actor: User) -> list[Campaign]:
    return list(
        db.session.scalars(
            sa.select(Campaign)
            .join(AdminUnit, Campaign.commune_id == AdminUnit.id)
            .where(unit_in_scope(actor))
            .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
        )
    )


def get_campaign(actor: User, campaign_id: int) -> Campaign:
    campaign = db.session.scalar(
        sa.select(Campaign)
        .join(AdminUnit, Campaign.commune_id == AdminUnit.id)
        .where(Campaign.id == campaign_id, unit_in_scope(actor))
    )
    if campaign is None:
        raise NotFound(campaign_id)
    return campaign


# --- assignment ------------------------------------------------------------------------------


def members_of(actor: User, commune: AdminUnit) -> list[User]:
    """Active team members working in the commune (scoped to it or to one of its villages)."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(AdminUnit, User.scope_unit_id == AdminUnit.id)
            .where(
                User.role == Role.MEMBER,
                User.active.is_(True),
                AdminUnit.path.startswith(commune.path, autoescape=True),
                unit_in_scope(actor),
            )
            .order_by(User.full_name, User.username)
        )
    )


@dataclass
class AssignResult:
    assigned: list[int] = field(default_factory=list)
    reassigned: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    conflicts: list[tuple[int, str]] = field(default_factory=list)  # household id, current member


def assign_households(
    actor: User,
    member_id: int,
    household_ids: list[int],
    *,
    due_on: date,
    now: datetime,
    campaign_id: int | None = None,
    reassign: bool = False,
) -> AssignResult:
    """Check households out to a member for a day. A household already checked out to another
    member is reported as a conflict, unless ``reassign`` is explicit: then the previous member
    loses it and is told."""
    require_role(actor, Role.LEADER)
    if not in_day_range(due_on, now, YEAR_AHEAD):
        raise ValidationError({"due_on": [_day_out_of_range(now)]})
    member = db.session.scalar(
        sa.select(User)
        .join(AdminUnit, User.scope_unit_id == AdminUnit.id)
        .where(User.id == member_id, User.role == Role.MEMBER, User.active.is_(True), unit_in_scope(actor))
    )
    if member is None:
        raise ValidationError({"member_id": [_("Choose an active team member of your commune.")]})
    if campaign_id is not None:
        get_campaign(actor, campaign_id)
    # The member must be able to see the households: same scope rule as everywhere.
    visible_to_member = {
        row for row in db.session.scalars(
            households_in_scope(member).with_only_columns(Household.id).where(Household.id.in_(household_ids))
        )
    }  # fmt: skip
    visible_to_actor = set(
        db.session.scalars(
            households_in_scope(actor).with_only_columns(Household.id).where(Household.id.in_(household_ids))
        )
    )
    missing = set(household_ids) - visible_to_actor
    if missing:
        raise NotFound(sorted(missing)[0])
    outside = visible_to_actor - visible_to_member
    if outside:
        raise ValidationError(
            {
                "member_id": [
                    _(
                        "%(n)s of these households are outside %(member)s's area.",
                        n=len(outside),
                        member=member.full_name or member.username,
                    )
                ]
            }
        )
    open_rows = {
        a.household_id: a
        for a in db.session.scalars(
            sa.select(Assignment).where(Assignment.household_id.in_(household_ids), Assignment.released_at.is_(None))
        )
    }
    result = AssignResult()
    for household_id in dict.fromkeys(household_ids):
        current = open_rows.get(household_id)
        if current is not None and current.member_id == member.id:
            current.due_on = due_on
            result.already.append(household_id)
            continue
        if current is not None:
            if not reassign:
                result.conflicts.append((household_id, current.member.full_name or current.member.username))
                continue
            current.released_at, current.released_reason = now, "reassigned"
            db.session.flush()  # free the household before it is checked out again
            result.reassigned.append(household_id)
        else:
            result.assigned.append(household_id)
        db.session.add(
            Assignment(
                household_id=household_id, member_id=member.id, due_on=due_on, campaign_id=campaign_id,
                assigned_by_id=actor.id, created_at=now,
            )
        )  # fmt: skip
    db.session.flush()
    if result.reassigned:
        record_event(
            actor, "assignment.reassign", target=member, detail={"households": len(result.reassigned)}, now=now
        )
    return result


def unassign(actor: User, household_ids: list[int], *, now: datetime) -> int:
    """Take households back from whoever has them (the member sees they were taken back)."""
    require_role(actor, Role.LEADER)
    visible = households_in_scope(actor).with_only_columns(Household.id).where(Household.id.in_(household_ids))
    return db.session.execute(
        sa.update(Assignment)
        .where(Assignment.household_id.in_(visible), Assignment.released_at.is_(None))
        .values(released_at=now, released_reason="cancelled")
    ).rowcount


# --- picking households ----------------------------------------------------------------------

FILTERS = ("all", "not_visited", "no_account", "follow_up_due", "unassigned")


def pick_households(
    actor: User, *, village_id: int | None, which: str, today: date, limit: int = 500
) -> list[tuple[Household, Assignment | None, VisitRecord | None]]:
    """Households of the actor's area for assignment, with their open assignment and latest visit."""
    latest = latest_visits()
    stmt = (
        households_in_scope(actor)
        .add_columns(Assignment, VisitRecord)
        .outerjoin(Assignment, sa.and_(Assignment.household_id == Household.id, Assignment.released_at.is_(None)))
        .outerjoin(latest, latest.c.household_id == Household.id)
        .outerjoin(VisitRecord, VisitRecord.id == latest.c.visit_id)
    )
    if village_id:
        stmt = stmt.where(Household.village_id == village_id)
    if which == "not_visited":
        stmt = stmt.where(VisitRecord.id.is_(None))
    elif which == "no_account":
        activated = (
            current_visits().with_only_columns(VisitRecord.household_id).where(VisitRecord.vneid_level1.is_(True))
        )
        stmt = stmt.where(Household.id.not_in(activated))
    elif which == "follow_up_due":
        stmt = stmt.where(VisitRecord.follow_up_on.is_not(None), VisitRecord.follow_up_on <= today)
    elif which == "unassigned":
        stmt = stmt.where(Assignment.id.is_(None))
    stmt = stmt.order_by(AdminUnit.sort_key, Household.address_folded, Household.head_name_folded).limit(limit)
    return [(h, a, v) for h, a, v in db.session.execute(stmt)]


# --- the member's day ------------------------------------------------------------------------


@dataclass
class WalkStop:
    household: Household
    assignment: Assignment
    leg_m: float | None  # from the previous stop (or the member's position)


def walk_list(member: User, *, today: date, position: tuple[float, float] | None = None) -> list[WalkStop]:
    """The member's open assignments due by today: located households in a short walking order,
    then the others by village and address. Without the phone's position, the walk continues from
    the last located household the member recorded today."""
    if position is None:
        position = _last_stop(member, today)
    rows = list(
        db.session.execute(
            sa.select(Assignment, Household)
            .join(Household, Assignment.household_id == Household.id)
            .join(AdminUnit, Household.village_id == AdminUnit.id)
            .where(
                Assignment.member_id == member.id,
                Assignment.released_at.is_(None),
                Assignment.due_on <= today,
                Household.erased_at.is_(None),
            )
            .order_by(AdminUnit.sort_key, Household.address_folded, Household.head_name_folded)
        )
    )
    located = [(a, h) for a, h in rows if h.lat is not None]
    others = [(a, h) for a, h in rows if h.lat is None]
    by_key = {h.id: (a, h) for a, h in located}
    ordered = walk_order([Stop(h.id, h.lat, h.lon) for _a, h in located], position)
    stops = [WalkStop(by_key[stop.key][1], by_key[stop.key][0], leg) for stop, leg in ordered]
    return stops + [WalkStop(h, a, None) for a, h in others]


def _last_stop(member: User, today: date) -> tuple[float, float] | None:
    start = day_start(today)
    row = db.session.execute(
        sa.select(Household.lat, Household.lon)
        .join(VisitRecord, VisitRecord.household_id == Household.id)
        .where(VisitRecord.member_id == member.id, VisitRecord.device_time >= start, Household.lat.is_not(None))
        .order_by(VisitRecord.device_time.desc())
        .limit(1)
    ).first()
    return (row.lat, row.lon) if row else None


def upcoming(member: User, *, today: date) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Assignment.id)).where(
            Assignment.member_id == member.id, Assignment.released_at.is_(None), Assignment.due_on > today
        )
    )


def close_assignments(member: User, household_ids: set[int] | list[int], *, now: datetime) -> None:
    """A visit recorded by ``member`` closes their open assignment of each household ("visited")."""
    if not household_ids:
        return
    db.session.execute(
        sa.update(Assignment)
        .where(
            Assignment.household_id.in_(household_ids),
            Assignment.member_id == member.id,
            Assignment.released_at.is_(None),
        )
        .values(released_at=now, released_reason="visited")
    )


def taken_away(member: User) -> list[Assignment]:
    """Households reassigned to someone else that the member has not acknowledged yet."""
    return list(
        db.session.scalars(
            sa.select(Assignment)
            .where(
                Assignment.member_id == member.id,
                Assignment.released_reason.in_(("reassigned", "cancelled")),
                Assignment.seen_at.is_(None),
            )
            .order_by(Assignment.released_at.desc())
        )
    )


def acknowledge_taken_away(member: User, *, now: datetime) -> int:
    return db.session.execute(
        sa.update(Assignment)
        .where(
            Assignment.member_id == member.id,
            Assignment.released_reason.in_(("reassigned", "cancelled")),
            Assignment.seen_at.is_(None),
        )
        .values(seen_at=now)
    ).rowcount
