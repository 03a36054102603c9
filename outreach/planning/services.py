"""Campaigns, assignment of households to members, and each member's walk list."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import (
    households_in_area,
    households_in_scope,
    households_under,
    manageable_commune,
    require_role,
    unit_in_scope,
    visible_household_ids,
)
from outreach.bulk import any_of
from outreach.clock import YEAR_AHEAD, day_range, day_start, in_day_range, local_today
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db, rowcount
from outreach.geo.models import AdminUnit, Household, Level
from outreach.planning.models import MAX_RETRY_DAYS, Assignment, Campaign
from outreach.planning.signals import assignments_released
from outreach.planning.walk_order import Stop, walk_order
from outreach.text import clean
from outreach.visits.models import VisitRecord, current_visits, is_latest_visit, reached

# --- campaigns -------------------------------------------------------------------------------


@dataclass
class CampaignInput:
    name: str
    starts_on: date | None
    ends_on: date | None
    village_ids: list[int]
    goal_visited_pct: int = 100
    goal_activated_pct: int = 80
    nobody_home_retry_days: int = 0  # 0: later the same day; 1: the next day; N: in N days


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
    if not 0 <= data.nobody_home_retry_days <= MAX_RETRY_DAYS:
        errors["nobody_home_retry_days"] = [_("A number of days from 0 to %(n)s.", n=MAX_RETRY_DAYS)]
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
    assert data.starts_on is not None and data.ends_on is not None  # else the errors above said so
    if campaign is None:
        campaign = Campaign(commune_id=commune.id, created_by_id=actor.id, created_at=now)
        db.session.add(campaign)
    campaign.name = clean(data.name)
    campaign.starts_on, campaign.ends_on = data.starts_on, data.ends_on
    campaign.goal_visited_pct, campaign.goal_activated_pct = data.goal_visited_pct, data.goal_activated_pct
    campaign.nobody_home_retry_days = data.nobody_home_retry_days
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


CAMPAIGNS_PER_PAGE = 20


def campaigns_page(actor: User, *, page: int = 1, per_page: int = CAMPAIGNS_PER_PAGE):
    """One page of the campaigns in the actor's area, newest first, with their total (a province holds
    more than a page can show with each one's progress)."""
    return db.paginate(
        sa.select(Campaign)
        .join(AdminUnit, Campaign.commune_id == AdminUnit.id)
        .where(unit_in_scope(actor))
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc()),
        page=page,
        per_page=per_page,
        max_per_page=per_page,
        error_out=False,
        count=True,
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
    already: list[int] = field(default_factory=list)  # with the member already: now for the new day and campaign
    conflicts: list[tuple[int, str]] = field(default_factory=list)  # household id, current member

    @property
    def done(self) -> int:
        """How many households the member now has as asked."""
        return len(self.assigned) + len(self.reassigned) + len(self.already)


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
    loses it and is told. One already with the same member takes the new day and campaign."""
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
    # An assignment its member may no longer see (they moved, or the household did) is not a conflict.
    release_out_of_scope(household_ids=household_ids, now=now, actor=actor)
    open_rows = {
        a.household_id: a
        for a in db.session.scalars(
            sa.select(Assignment).where(Assignment.household_id.in_(household_ids), Assignment.released_at.is_(None))
        )
    }
    result = AssignResult()
    taken_from: list[int] = []  # the assignments that gave way to these
    for household_id in dict.fromkeys(household_ids):
        current = open_rows.get(household_id)
        if current is not None and current.member_id == member.id:
            current.due_on, current.campaign_id = due_on, campaign_id
            result.already.append(household_id)
            continue
        if current is not None:
            if not reassign:
                result.conflicts.append((household_id, current.member.full_name or current.member.username))
                continue
            current.released_at, current.released_reason = now, "reassigned"
            db.session.flush()  # free the household before it is checked out again
            result.reassigned.append(household_id)
            taken_from.append(current.id)
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
        assignments_released.send(actor, assignment_ids=taken_from, reason="reassigned", now=now)
    return result


def unassign(actor: User, household_ids: list[int], *, now: datetime) -> int:
    """Take households back from whoever has them (the member sees they were taken back)."""
    require_role(actor, Role.LEADER)
    visible = households_in_scope(actor).with_only_columns(Household.id).where(Household.id.in_(household_ids))
    released = list(
        db.session.scalars(
            sa.update(Assignment)
            .where(Assignment.household_id.in_(visible), Assignment.released_at.is_(None))
            .values(released_at=now, released_reason="cancelled")
            .returning(Assignment.id)
        )
    )
    if released:
        assignments_released.send(actor, assignment_ids=released, reason="cancelled", now=now)
    return len(released)


# --- picking households ----------------------------------------------------------------------

FILTERS = ("all", "not_visited", "no_account", "follow_up_due", "unassigned", "to_reassign")


def _left_by_a_move():
    """Ids of households whose last assignment ended because the member or the household moved:
    nobody has them now, and the leader should give them to someone."""
    later = aliased(Assignment)
    return sa.select(Assignment.household_id).where(
        Assignment.released_reason == "out_of_area",
        ~sa.exists().where(later.household_id == Assignment.household_id, later.id > Assignment.id),
    )


def to_reassign(actor: User, *, village_ids: list[int] | None = None) -> int:
    """How many households of the actor's area (or of these villages) are waiting to be reassigned."""
    stmt = households_in_scope(actor).where(Household.id.in_(_left_by_a_move()))
    if village_ids is not None:
        stmt = stmt.where(Household.village_id.in_(village_ids))
    return db.session.execute(stmt.with_only_columns(sa.func.count(Household.id))).scalar_one()


def pick_households(
    actor: User,
    *,
    village_id: int | None,
    which: str,
    today: date,
    limit: int = 500,
    unit: AdminUnit | None = None,
) -> list[tuple[Household, Assignment | None, VisitRecord | None]]:
    """Households of the actor's area (or of ``unit`` in it: the commune planned) for assignment, with
    their open assignment and latest visit. The area is filtered once, and only its households' visits
    are read."""
    area_unit = unit or actor.scope_unit
    area = households_under(area_unit) if area_unit is not None else visible_household_ids(actor)
    if village_id:
        area = area.where(Household.village_id == village_id)
    stmt = (
        households_in_area(actor, unit)
        .add_columns(Assignment, VisitRecord)
        .outerjoin(Assignment, sa.and_(Assignment.household_id == Household.id, Assignment.released_at.is_(None)))
        .outerjoin(VisitRecord, sa.and_(VisitRecord.household_id == Household.id, is_latest_visit()))
    )
    if village_id:
        stmt = stmt.where(Household.village_id == village_id)
    if which == "not_visited":  # nobody met yet: never tried, or only nobody home
        met = (
            current_visits()
            .with_only_columns(VisitRecord.household_id)
            .where(reached(VisitRecord.outcome), VisitRecord.household_id.in_(area))
        )
        stmt = stmt.where(Household.id.not_in(met))
    elif which == "no_account":
        activated = (
            current_visits()
            .with_only_columns(VisitRecord.household_id)
            .where(VisitRecord.vneid_level1.is_(True), VisitRecord.household_id.in_(area))
        )
        stmt = stmt.where(Household.id.not_in(activated))
    elif which == "follow_up_due":
        stmt = stmt.where(VisitRecord.follow_up_on.is_not(None), VisitRecord.follow_up_on <= today)
    elif which == "unassigned":
        stmt = stmt.where(Assignment.id.is_(None))
    elif which == "to_reassign":
        stmt = stmt.where(Household.id.in_(_left_by_a_move()))
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
    then the others by village and address; households where nobody was home earlier today come
    after all of these, in the same way. Without the phone's position, the walk continues from the
    last located household the member recorded today."""
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
                # The same scope as the household pages: a household moved away (or a member moved)
                # is not shown, even before its assignment is released.
                Assignment.household_id.in_(visible_household_ids(member)),
            )
            .order_by(AdminUnit.sort_key, Household.address_folded, Household.head_name_folded)
        )
    )
    start = day_start(today)
    tried_today = [(a, h) for a, h in rows if a.tried_at is not None and a.tried_at >= start]
    first = [(a, h) for a, h in rows if a.tried_at is None or a.tried_at < start]
    stops, position = _in_walking_order(first, position)
    again, _end = _in_walking_order(tried_today, position)
    return stops + again


def _in_walking_order(
    rows: list[tuple[Assignment, Household]], position: tuple[float, float] | None
) -> tuple[list[WalkStop], tuple[float, float] | None]:
    """Located households in a short walk from ``position``, then the others as they come; and
    where the walk ends (the last located household)."""
    located = [(a, h, where) for a, h in rows if (where := h.location) is not None]
    others = [(a, h) for a, h in rows if h.location is None]
    by_key = {h.id: (a, h) for a, h, _where in located}
    ordered = walk_order([Stop(h.id, *where) for _a, h, where in located], position)
    stops = [WalkStop(by_key[stop.key][1], by_key[stop.key][0], leg) for stop, leg in ordered]
    end = (ordered[-1][0].lat, ordered[-1][0].lon) if ordered else position
    return stops + [WalkStop(h, a, None) for a, h in others], end


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
    """How many of the member's open assignments are planned for later days."""
    return db.session.execute(
        sa.select(sa.func.count(Assignment.id)).where(
            Assignment.member_id == member.id,
            Assignment.released_at.is_(None),
            Assignment.due_on > today,
            Assignment.household_id.in_(visible_household_ids(member)),
        )
    ).scalar_one()


def close_assignments(member: User, household_ids: set[int] | list[int], *, now: datetime) -> None:
    """A visit recorded by ``member`` closes their open assignment of each household ("visited")."""
    if not household_ids:
        return
    db.session.execute(
        sa.update(Assignment)
        .where(
            any_of(Assignment.household_id, household_ids),
            Assignment.member_id == member.id,
            Assignment.released_at.is_(None),
        )
        .values(released_at=now, released_reason="visited")
    )


TAKEN_AWAY = ("reassigned", "cancelled", "out_of_area")


def keep_for_another_try(member: User, tried: dict[int, datetime], *, now: datetime, reopen: bool = False) -> None:
    """Nobody was home (``tried``: household id -> the time of the try): the member's open assignment
    of each household stays open, marked with that time, and is due again on the day its campaign
    sets (later the same day, the next day, or in N days; later the same day without a campaign).
    With ``reopen`` (a visit corrected to "nobody home"), a household that the member's visit took
    off their list goes back on it, unless someone else has it now."""
    if not tried:
        return
    open_rows = {
        a.household_id: a
        for a in db.session.scalars(
            sa.select(Assignment).where(any_of(Assignment.household_id, tried), Assignment.released_at.is_(None))
        )
    }
    for household_id, tried_at in tried.items():
        assignment = open_rows.get(household_id)
        if assignment is None and reopen:
            assignment = _reopen(member, household_id, now=now)
        if assignment is None or assignment.member_id != member.id:
            continue
        days = assignment.campaign.nobody_home_retry_days if assignment.campaign else 0
        assignment.due_on = max(assignment.due_on, local_today(tried_at) + timedelta(days=days))
        if assignment.tried_at is None or tried_at > assignment.tried_at:
            assignment.tried_at = tried_at
    db.session.flush()


def _reopen(member: User, household_id: int, *, now: datetime) -> Assignment | None:
    """A new open assignment like the member's last one of the household that a visit closed."""
    closed = db.session.scalar(
        sa.select(Assignment)
        .where(
            Assignment.household_id == household_id,
            Assignment.member_id == member.id,
            Assignment.released_reason == "visited",
        )
        .order_by(Assignment.released_at.desc(), Assignment.id.desc())
        .limit(1)
    )
    if closed is None:
        return None
    again = Assignment(
        household_id=household_id, member_id=member.id, campaign_id=closed.campaign_id, due_on=closed.due_on,
        assigned_by_id=closed.assigned_by_id, created_at=now,
    )  # fmt: skip
    db.session.add(again)
    db.session.flush()
    return again


def taken_away(member: User) -> list[Assignment]:
    """Households reassigned to someone else that the member has not acknowledged yet (only those
    the member may still see: one that moved away is counted by ``moved_away``, never named)."""
    return list(
        db.session.scalars(
            sa.select(Assignment)
            .where(
                Assignment.member_id == member.id,
                Assignment.released_reason.in_(TAKEN_AWAY),
                Assignment.seen_at.is_(None),
                Assignment.household_id.in_(visible_household_ids(member)),
            )
            .order_by(Assignment.released_at.desc())
        )
    )


def moved_away(member: User) -> int:
    """How many households left the member's list, not yet acknowledged, because the member or the
    household moved out of their area."""
    return db.session.execute(
        sa.select(sa.func.count(Assignment.id)).where(
            Assignment.member_id == member.id,
            Assignment.released_reason == "out_of_area",
            Assignment.seen_at.is_(None),
            Assignment.household_id.not_in(visible_household_ids(member)),
        )
    ).scalar_one()


def acknowledge_taken_away(member: User, *, now: datetime) -> int:
    """The member has seen the households taken from their list (``taken_away`` and ``moved_away``)."""
    result = db.session.execute(
        sa.update(Assignment)
        .where(
            Assignment.member_id == member.id,
            Assignment.released_reason.in_(TAKEN_AWAY),
            Assignment.seen_at.is_(None),
        )
        .values(seen_at=now)
    )
    return rowcount(result)


# --- scope that changed (auth and geo tell: outreach.auth.signals, outreach.geo.signals) ----------


def release_out_of_scope(
    *, now: datetime, member: User | None = None, household_ids: Iterable[int] = (), actor: User | None = None
) -> int:
    """End the open assignments of ``member`` (or of these households) whose member may no longer
    see the household: the member was moved or given another role, or the household moved. They
    become "out_of_area": off the member's lists, and "to reassign" for the leader. Returns how many."""
    stmt = sa.select(Assignment).where(Assignment.released_at.is_(None))
    if member is not None:
        stmt = stmt.where(Assignment.member_id == member.id)
    else:
        stmt = stmt.where(Assignment.household_id.in_(list(household_ids)))
    by_member: dict[User, list[Assignment]] = defaultdict(list)
    for assignment in db.session.scalars(stmt):
        by_member[assignment.member].append(assignment)
    released: list[int] = []
    for holder, assignments in by_member.items():
        ids = [a.household_id for a in assignments]
        visible = set(db.session.scalars(visible_household_ids(holder).where(Household.id.in_(ids))))
        for assignment in assignments:
            if assignment.household_id not in visible:
                assignment.released_at, assignment.released_reason = now, "out_of_area"
                released.append(assignment.id)
    db.session.flush()
    if released:
        assignments_released.send(actor, assignment_ids=released, reason="out_of_area", now=now)
    return len(released)
