"""Coverage: how many households of each unit were reached, counted in SQL within the actor's scope.

Reached means someone of the household was met; a household where nobody was home at every try is
counted apart (``nobody_home``), never as visited.

The maps colour units by it and the impact report sets it beside the online-submission rate.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from outreach.auth.models import User
from outreach.auth.scope import unit_in_scope
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level
from outreach.visits.models import VisitRecord, reached

CHILD_LEVEL = {
    Level.PROVINCE: (Level.DISTRICT, Level.COMMUNE),
    Level.DISTRICT: (Level.COMMUNE,),
    Level.COMMUNE: (Level.VILLAGE,),
}


@dataclass
class UnitCoverage:
    """One unit on the map and the counts behind its percentages."""

    id: int
    name: str
    level: str
    lat: float | None
    lon: float | None
    boundary: str | None
    households: int
    visited: int  # reached: someone was met
    activated: int
    nobody_home: int = 0  # tried, nobody home every time: not in ``visited``
    people_helped: int = 0  # summed over the current visits of the unit's households

    @property
    def has_data(self) -> bool:
        return self.households > 0

    def share(self, measure: str) -> float | None:
        """The measure as a percentage, or None when the unit has no households (no data, not zero)."""
        if not self.households:
            return None
        return round(100 * getattr(self, measure) / self.households, 1)


def child_levels(unit: AdminUnit) -> tuple[str, ...]:
    """What a unit's map can show: a province its districts (legacy) or communes, a commune its villages."""
    if unit.level == Level.PROVINCE and unit.dataset == "2025":
        return (Level.COMMUNE,)
    return CHILD_LEVEL.get(Level(unit.level), ())


def coverage(actor: User, unit: AdminUnit, level: str) -> list[UnitCoverage]:
    """Units of ``level`` under ``unit`` (in the actor's scope) with households, households reached
    (``visited``), activated, tried with nobody home only, and people helped.

    Area first: the households under ``unit`` (one path prefix), each joined to its own current visits
    (an index lookup per household), folded to one row per household, then counted per unit shown. No
    step reads visits of households outside the area, and none is read again per household."""
    village = sa.orm.aliased(AdminUnit)
    commune = sa.orm.aliased(AdminUnit)
    correction = sa.orm.aliased(VisitRecord)
    shown: sa.orm.InstrumentedAttribute[int | None]  # the id of the unit each household counts in
    if level == Level.VILLAGE:
        shown = village.id
    elif level == Level.COMMUNE:
        shown = village.parent_id
    else:  # districts: one more step up, by parent links (equality joins that every database plans well)
        shown = commune.parent_id
    per_household = (
        sa.select(
            Household.id.label("household_id"),
            shown.label("unit_id"),
            sa.func.count(VisitRecord.id).label("tries"),
            sa.func.max(sa.case((reached(VisitRecord.outcome), 1), else_=0)).label("met"),
            sa.func.max(sa.case((VisitRecord.vneid_level1.is_(True), 1), else_=0)).label("active"),
            sa.func.coalesce(sa.func.sum(VisitRecord.people_helped), 0).label("helped"),
        )
        .join(village, village.id == Household.village_id)
        .outerjoin(
            VisitRecord,
            sa.and_(
                VisitRecord.household_id == Household.id,
                ~sa.exists().where(correction.supersedes_id == VisitRecord.id),  # current records only
            ),
        )
        .where(Household.erased_at.is_(None), village.path.startswith(unit.path, autoescape=True))
        .group_by(Household.id, shown)
    )
    if level not in (Level.VILLAGE, Level.COMMUNE):
        per_household = per_household.join(commune, commune.id == village.parent_id)
    per = per_household.subquery()
    met = sa.func.coalesce(sa.func.sum(per.c.met), 0)
    counts = (
        sa.select(
            per.c.unit_id,
            sa.func.count(per.c.household_id).label("households"),
            met.label("visited"),
            sa.func.coalesce(sa.func.sum(per.c.active), 0).label("activated"),
            # Every household tried, less those reached: nobody home at every try.
            (sa.func.count(sa.case((per.c.tries > 0, 1))) - met).label("nobody_home"),
            sa.func.coalesce(sa.func.sum(per.c.helped), 0).label("people_helped"),
        )
        .group_by(per.c.unit_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            AdminUnit.id,
            AdminUnit.name,
            AdminUnit.level,
            AdminUnit.lat,
            AdminUnit.lon,
            AdminUnit.boundary_geojson,
            counts.c.households,
            counts.c.visited,
            counts.c.activated,
            counts.c.nobody_home,
            counts.c.people_helped,
        )  # fmt: skip
        .outerjoin(counts, counts.c.unit_id == AdminUnit.id)
        .where(AdminUnit.level == level, AdminUnit.path.startswith(unit.path, autoescape=True), unit_in_scope(actor))
        .order_by(AdminUnit.sort_key)
    )
    return [
        UnitCoverage(
            uid, name, lvl, lat, lon, boundary, households or 0, int(seen or 0), int(active or 0), int(nobody or 0),
            int(helped or 0),
        )  # fmt: skip
        for uid, name, lvl, lat, lon, boundary, households, seen, active, nobody, helped in rows
    ]
