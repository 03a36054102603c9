"""What a user sees first: the numbers of their area, and a commune leader's day."""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from outreach.auth.models import User
from outreach.auth.scope import households_in_scope, unit_in_scope
from outreach.clock import day_start
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Consent, Household, Level, Purpose
from outreach.planning.models import Assignment
from outreach.planning.services import members_of, to_reassign
from outreach.visits.models import VisitRecord, current_visits, latest_visits


@dataclass
class AreaSummary:
    communes: int
    villages: int
    households: int
    with_phone: int
    sms_consent: int
    erased: int


def area_summary(actor: User) -> AreaSummary:
    """Counts for the actor's subtree, aggregated in SQL."""
    rows = db.session.execute(
        sa.select(AdminUnit.level, sa.func.count()).where(unit_in_scope(actor)).group_by(AdminUnit.level)
    )
    units = {level: count for level, count in rows}
    in_scope = sa.select(AdminUnit.id).where(unit_in_scope(actor), AdminUnit.level == Level.VILLAGE)
    live = sa.and_(Household.village_id.in_(in_scope), Household.erased_at.is_(None))
    households, with_phone, erased = db.session.execute(
        sa.select(
            sa.func.count().filter(Household.erased_at.is_(None)),
            sa.func.count(Household.phone),
            sa.func.count(Household.erased_at),
        ).where(Household.village_id.in_(in_scope))
    ).one()
    sms = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Consent.household_id)))
        .join(Household)
        .where(live, Consent.purpose == Purpose.RECEIVE_SMS, Consent.withdrawn_at.is_(None))
    )
    return AreaSummary(
        communes=units.get(Level.COMMUNE, 0),
        villages=units.get(Level.VILLAGE, 0),
        households=households,
        with_phone=with_phone,
        sms_consent=sms or 0,
        erased=erased,
    )


@dataclass
class MemberDay:
    member: User
    to_visit: int  # households on their list for today (or late), not visited yet
    recorded: int  # households they recorded a visit of today (nobody home included)


@dataclass
class TeamDay:
    """A commune leader's day: who of the team goes where, and what waits for the leader to decide."""

    members: list[MemberDay]
    follow_ups_due: int  # households whose follow-up date has come, assigned to nobody
    to_reassign: int  # households whose member or household moved away

    @property
    def to_visit(self) -> int:
        return sum(m.to_visit for m in self.members)

    @property
    def recorded(self) -> int:
        return sum(m.recorded for m in self.members)


def team_day(leader: User, *, today: date) -> TeamDay:
    """What the leader's team does today (each member's households for the day and the visits they
    recorded), and the households waiting for the leader: follow-ups due with nobody assigned, and
    households to give to someone else. Leaders get no walk list of their own: this is their today."""
    commune = leader.scope_unit
    members = members_of(leader, commune) if commune is not None else []
    ids = [m.id for m in members]
    in_area = households_in_scope(leader).with_only_columns(Household.id)
    due = dict(
        db.session.execute(
            sa.select(Assignment.member_id, sa.func.count(Assignment.id))
            .where(
                Assignment.member_id.in_(ids),
                Assignment.released_at.is_(None),
                Assignment.due_on <= today,
                Assignment.household_id.in_(in_area),
            )
            .group_by(Assignment.member_id)
        ).all()
    )
    start = day_start(today)
    recorded = dict(
        db.session.execute(
            current_visits()
            .with_only_columns(VisitRecord.member_id, sa.func.count(sa.distinct(VisitRecord.household_id)))
            .where(
                VisitRecord.member_id.in_(ids),
                VisitRecord.device_time >= start,
                VisitRecord.device_time < start + timedelta(days=1),
            )
            .group_by(VisitRecord.member_id)
        ).all()
    )
    latest = latest_visits()
    follow_ups = db.session.scalar(
        households_in_scope(leader)
        .with_only_columns(sa.func.count(Household.id))
        .join(latest, latest.c.household_id == Household.id)
        .join(VisitRecord, VisitRecord.id == latest.c.visit_id)
        .where(
            VisitRecord.follow_up_on <= today,
            ~sa.exists().where(Assignment.household_id == Household.id, Assignment.released_at.is_(None)),
        )
    )
    return TeamDay(
        members=[MemberDay(m, due.get(m.id, 0), recorded.get(m.id, 0)) for m in members],
        follow_ups_due=follow_ups or 0,
        to_reassign=to_reassign(leader),
    )
