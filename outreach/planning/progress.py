"""Progress of a campaign, per village and per member, aggregated in SQL.

Visited means reached: someone of the household was met. A household where nobody was home at every
try in the campaign is counted apart (``nobody_home``)."""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from outreach.auth.models import User
from outreach.clock import day_end, day_start
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household
from outreach.planning.models import Campaign, campaign_village
from outreach.visits.models import Outcome, VisitRecord, current_visits, latest_visits, reached


@dataclass
class ProgressRow:
    label: str
    unit_id: int | None
    households: int | None  # None for a member: they have no households of their own
    visited: int  # reached: someone was met
    helped: int
    people_helped: int
    activated: int
    submitted: int
    follow_ups_due: int
    nobody_home: int = 0  # tried, nobody home every time: not in ``visited``

    def pct(self, count: int) -> float | None:
        return round(100 * count / self.households, 1) if self.households else None


def _period(campaign: Campaign) -> tuple[datetime, datetime]:
    start, end = day_start(campaign.starts_on), day_end(campaign.ends_on)
    return start, end


def _villages(campaign: Campaign) -> sa.Select:
    return sa.select(campaign_village.c.village_id).where(campaign_village.c.campaign_id == campaign.id)


def _households(campaign: Campaign) -> sa.Select:
    """The ids of the households (not erased) of the campaign's villages: the area every count starts from."""
    return sa.select(Household.id).where(Household.village_id.in_(_villages(campaign)), Household.erased_at.is_(None))


def _visits_in(campaign: Campaign):
    start, end = _period(campaign)
    return (
        current_visits()
        .join(Household, VisitRecord.household_id == Household.id)
        .where(
            Household.village_id.in_(_villages(campaign)),
            Household.erased_at.is_(None),
            VisitRecord.device_time >= start,
            VisitRecord.device_time < end,
        )
        .subquery()
    )


def _counts(visits):
    def households_where(condition):
        return sa.func.count(sa.distinct(sa.case((condition, visits.c.household_id))))

    met = households_where(reached(visits.c.outcome))
    return (
        met,
        households_where(visits.c.outcome == Outcome.HELPED),
        sa.func.coalesce(sa.func.sum(visits.c.people_helped), 0),
        households_where(visits.c.vneid_level1.is_(True)),
        households_where(visits.c.procedure_submitted.is_(True)),
        sa.func.count(sa.distinct(visits.c.household_id)) - met,  # every household tried, less those reached
    )


def progress_by_village(campaign: Campaign, *, today: date) -> list[ProgressRow]:
    """Per target village: households, and how many were visited, helped, activated, submitted online.

    Area first: households are filtered to the campaign's villages before they are counted, and the
    latest visit is picked only among theirs."""
    visits = _visits_in(campaign)
    latest = latest_visits(households=_households(campaign))
    due = (
        sa.select(Household.village_id, sa.func.count().label("due"))
        .join(latest, latest.c.household_id == Household.id)
        .join(VisitRecord, VisitRecord.id == latest.c.visit_id)
        .where(VisitRecord.follow_up_on <= today)
        .group_by(Household.village_id)
        .subquery()
    )
    totals = (
        sa.select(Household.village_id, sa.func.count().label("households"))
        .where(Household.village_id.in_(_villages(campaign)), Household.erased_at.is_(None))
        .group_by(Household.village_id)
        .subquery()
    )
    done = (
        sa.select(Household.village_id.label("village_id"), *(c.label(f"c{i}") for i, c in enumerate(_counts(visits))))
        .select_from(visits)
        .join(Household, Household.id == visits.c.household_id)
        .group_by(Household.village_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            AdminUnit.id,
            AdminUnit.name,
            totals.c.households,
            done.c.c0,
            done.c.c1,
            done.c.c2,
            done.c.c3,
            done.c.c4,
            due.c.due,
            done.c.c5,
        )  # fmt: skip
        .join(campaign_village, campaign_village.c.village_id == AdminUnit.id)
        .outerjoin(totals, totals.c.village_id == AdminUnit.id)
        .outerjoin(done, done.c.village_id == AdminUnit.id)
        .outerjoin(due, due.c.village_id == AdminUnit.id)
        .where(campaign_village.c.campaign_id == campaign.id)
        .order_by(AdminUnit.sort_key)
    )
    return [
        ProgressRow(
            name, unit_id, households or 0, c0 or 0, c1 or 0, int(c2 or 0), c3 or 0, c4 or 0, due_n or 0, c5 or 0
        )
        for unit_id, name, households, c0, c1, c2, c3, c4, due_n, c5 in rows
    ]


def progress_by_member(campaign: Campaign, *, today: date) -> list[ProgressRow]:
    """Per member who recorded visits in the campaign's villages and period."""
    visits = _visits_in(campaign)
    follow_ups = sa.func.count(sa.distinct(sa.case((visits.c.follow_up_on <= today, visits.c.household_id))))
    rows = db.session.execute(
        sa.select(User.full_name, User.username, *_counts(visits), follow_ups)
        .select_from(visits)
        .join(User, User.id == visits.c.member_id)
        .group_by(User.id, User.full_name, User.username)
        .order_by(User.full_name, User.username)
    )
    return [
        ProgressRow(full_name or username, None, None, c0, c1, int(c2), c3, c4, due, c5)
        for full_name, username, c0, c1, c2, c3, c4, c5, due in rows
    ]


def total(rows: list[ProgressRow]) -> ProgressRow:
    return ProgressRow(
        "", None,
        sum(r.households or 0 for r in rows), sum(r.visited for r in rows), sum(r.helped for r in rows),
        sum(r.people_helped for r in rows), sum(r.activated for r in rows), sum(r.submitted for r in rows),
        sum(r.follow_ups_due for r in rows), sum(r.nobody_home for r in rows),
    )  # fmt: skip
