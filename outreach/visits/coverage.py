"""Coverage: how many households of each unit were reached, counted in SQL within the actor's scope.

Reached means someone of the household was met; a household where nobody was home at every try is
counted apart (``nobody_home``), never as visited.

The maps colour units by it and the impact report sets it beside the online-submission rate.
"""

from dataclasses import dataclass
from datetime import datetime

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
    reached_in: int = 0  # reached by a current visit between the moments asked (``reached_between``)

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


def coverage(
    actor: User, unit: AdminUnit, level: str, *, reached_between: tuple[datetime, datetime] | None = None
) -> list[UnitCoverage]:
    """Units of ``level`` under ``unit`` (in the actor's scope) with households, households reached
    (``visited``), activated, tried with nobody home only, and people helped; with ``reached_between``
    (two moments), also the households reached by a current visit between them (``reached_in``), from
    the same pass over the visits.

    Area first, and counted per unit before anything is joined: the villages under ``unit`` (one path
    prefix, a few thousand rows at most) with the unit each one counts in; the households of those
    villages counted per unit; the current visits of those households only, folded to one row per
    visited household, then counted per unit. Both sides read narrow indexes only (``household``'s
    live households by village, ``visit_record``'s by household with the columns counted), not the
    tables; the two sides meet as a few hundred rows at most."""
    village = sa.orm.aliased(AdminUnit)
    shown: sa.orm.InstrumentedAttribute[int | None]
    chosen = sa.select(village.id)
    if level == Level.VILLAGE:
        shown = village.id
    elif level == Level.COMMUNE:
        shown = village.parent_id
    else:  # districts: one more step up, by parent links (equality joins that every database plans well)
        commune = sa.orm.aliased(AdminUnit)
        shown = commune.parent_id
        chosen = chosen.join(commune, commune.id == village.parent_id)
    villages = (
        chosen.add_columns(shown.label("unit_id"))
        .where(village.level == Level.VILLAGE, village.path.startswith(unit.path, autoescape=True))
        .subquery()
    )
    households = (
        sa.select(villages.c.unit_id, sa.func.count(Household.id).label("households"))
        .join(Household, Household.village_id == villages.c.id)
        .where(Household.erased_at.is_(None))
        .group_by(villages.c.unit_id)
        .subquery()
    )
    correction = sa.orm.aliased(VisitRecord)
    superseded = sa.exists().where(correction.supersedes_id.is_not(None), correction.supersedes_id == VisitRecord.id)
    columns = [
        sa.func.max(sa.case((reached(VisitRecord.outcome), 1), else_=0)).label("met"),
        sa.func.max(sa.case((VisitRecord.vneid_level1.is_(True), 1), else_=0)).label("active"),
        sa.func.sum(VisitRecord.people_helped).label("helped"),
    ]
    if reached_between is not None:
        start, end = reached_between
        window = sa.and_(reached(VisitRecord.outcome), VisitRecord.device_time >= start, VisitRecord.device_time < end)
        columns.append(sa.func.max(sa.case((window, 1), else_=0)).label("met_in"))
    per_visited = (
        sa.select(villages.c.unit_id, VisitRecord.household_id, *columns)
        .join(Household, Household.village_id == villages.c.id)
        .join(VisitRecord, VisitRecord.household_id == Household.id)
        .where(Household.erased_at.is_(None), ~superseded)  # current records only
        .group_by(VisitRecord.household_id, villages.c.unit_id)
        .subquery()
    )
    met = sa.func.sum(per_visited.c.met)
    counts = (
        sa.select(
            per_visited.c.unit_id,
            met.label("visited"),
            sa.func.sum(per_visited.c.active).label("activated"),
            # Every household tried, less those reached: nobody home at every try.
            (sa.func.count(per_visited.c.household_id) - met).label("nobody_home"),
            sa.func.sum(per_visited.c.helped).label("people_helped"),
            (sa.func.sum(per_visited.c.met_in) if reached_between is not None else sa.null()).label("reached_in"),
        )
        .group_by(per_visited.c.unit_id)
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
            households.c.households,
            counts.c.visited,
            counts.c.activated,
            counts.c.nobody_home,
            counts.c.people_helped,
            counts.c.reached_in,
        )  # fmt: skip
        .outerjoin(households, households.c.unit_id == AdminUnit.id)
        .outerjoin(counts, counts.c.unit_id == AdminUnit.id)
        .where(AdminUnit.level == level, AdminUnit.path.startswith(unit.path, autoescape=True), unit_in_scope(actor))
        .order_by(AdminUnit.sort_key)
    )
    return [
        UnitCoverage(
            uid,
            name,
            lvl,
            lat,
            lon,
            boundary,
            households or 0,
            int(seen or 0),
            int(active or 0),
            int(nobody or 0),
            int(helped or 0),
            int(recent or 0),
        )  # fmt: skip
        for uid, name, lvl, lat, lon, boundary, households, seen, active, nobody, helped, recent in rows
    ]
