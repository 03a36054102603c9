"""What a user sees first: the numbers of their area."""

from dataclasses import dataclass

import sqlalchemy as sa

from outreach.auth.models import User
from outreach.auth.scope import unit_in_scope
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Consent, Household, Level, Purpose


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
