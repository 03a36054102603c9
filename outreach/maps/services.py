"""Coverage queries for the maps: aggregated in SQL, within the actor's scope."""

import json
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import households_in_scope, require_role, unit_in_scope
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level
from outreach.text import fold, fold_key
from outreach.visits.models import Obstacle, Outcome, VisitObstacle, VisitRecord, current_visits, latest_visits

MEASURES = ("visited", "activated", "online_rate", "rate_change")
# Measures from the imported submission statistics (reports area), not from the households.
RATE_MEASURES = ("online_rate", "rate_change")
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
    visited: int
    activated: int

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
    """Units of ``level`` under ``unit`` (in the actor's scope) with households, visited and activated."""
    village = sa.orm.aliased(AdminUnit)
    commune = sa.orm.aliased(AdminUnit)
    visits = current_visits().subquery()
    visited = sa.select(visits.c.household_id).distinct().subquery()
    activated = sa.select(visits.c.household_id).where(visits.c.vneid_level1.is_(True)).distinct().subquery()
    # Climb from each household's village to the unit shown, by parent links (equality joins that
    # every database plans well), then count per unit.
    counted = (
        sa.select(Household.id.label("household_id"))
        .join(village, village.id == Household.village_id)
        .where(Household.erased_at.is_(None), village.path.startswith(unit.path, autoescape=True))
    )
    if level == Level.VILLAGE:
        shown = village.id
    elif level == Level.COMMUNE:
        shown = village.parent_id
    else:  # districts: one more step up
        counted = counted.join(commune, commune.id == village.parent_id)
        shown = commune.parent_id
    per_household = counted.add_columns(shown.label("unit_id")).subquery()
    counts = (
        sa.select(
            per_household.c.unit_id,
            sa.func.count(per_household.c.household_id).label("households"),
            sa.func.count(visited.c.household_id).label("visited"),
            sa.func.count(activated.c.household_id).label("activated"),
        )
        .outerjoin(visited, visited.c.household_id == per_household.c.household_id)
        .outerjoin(activated, activated.c.household_id == per_household.c.household_id)
        .group_by(per_household.c.unit_id)
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
        )  # fmt: skip
        .outerjoin(counts, counts.c.unit_id == AdminUnit.id)
        .where(AdminUnit.level == level, AdminUnit.path.startswith(unit.path, autoescape=True), unit_in_scope(actor))
        .order_by(AdminUnit.sort_key)
    )
    return [
        UnitCoverage(uid, name, lvl, lat, lon, boundary, households or 0, seen or 0, active or 0)
        for uid, name, lvl, lat, lon, boundary, households, seen, active in rows
    ]


@dataclass
class HouseholdPoint:
    id: int
    name: str
    address: str
    lat: float
    lon: float
    status: str  # not_visited | visited | helped | follow_up


def household_points(actor: User, unit: AdminUnit, *, today: date) -> list[HouseholdPoint]:
    """Located households under a unit with the status of their latest visit. Never for staff."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    latest = latest_visits()
    rows = db.session.execute(
        households_in_scope(actor)
        .with_only_columns(
            Household.id,
            Household.head_name,
            Household.address,
            Household.lat,
            Household.lon,
            VisitRecord.outcome,
            VisitRecord.follow_up_on,
        )  # fmt: skip
        .outerjoin(latest, latest.c.household_id == Household.id)
        .outerjoin(VisitRecord, VisitRecord.id == latest.c.visit_id)
        .where(AdminUnit.path.startswith(unit.path, autoescape=True), Household.lat.is_not(None))
    )
    points = []
    for hid, name, address, lat, lon, outcome, follow_up_on in rows:
        if outcome is None:
            status = "not_visited"
        elif follow_up_on is not None and follow_up_on <= today:
            status = "follow_up"
        elif outcome == Outcome.HELPED:
            status = "helped"
        else:
            status = "visited"
        points.append(HouseholdPoint(hid, name, address, lat, lon, status))
    return points


def obstacle_points(actor: User, unit: AdminUnit) -> dict[str, list[tuple[float, float]]]:
    """Where each obstacle was met (households with a location, current records), for heat maps."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    visits = current_visits().subquery()
    rows = db.session.execute(
        households_in_scope(actor)
        .with_only_columns(VisitObstacle.code, Household.lat, Household.lon)
        .join(visits, visits.c.household_id == Household.id)
        .join(VisitObstacle, VisitObstacle.visit_id == visits.c.id)
        .where(AdminUnit.path.startswith(unit.path, autoescape=True), Household.lat.is_not(None))
    )
    points: dict[str, list[tuple[float, float]]] = {code.value: [] for code in Obstacle}
    for code, lat, lon in rows:
        points[code].append((lat, lon))
    return {code: pts for code, pts in points.items() if pts}


# --- boundaries --------------------------------------------------------------------------------

_CODE_KEYS = ("code", "ma", "ma_xa", "ma_huyen", "ma_tinh", "ma_don_vi", "id", "gid")
_NAME_KEYS = ("name", "ten", "ten_xa", "ten_huyen", "ten_tinh", "ten_don_vi", "name_3", "name_2", "name_1", "village")
_PREFIXES = ("xa ", "phuong ", "thi tran ", "huyen ", "thi xa ", "thanh pho ", "tp. ", "tp ", "tinh ", "quan ",
             "thon ", "ban ", "to dan pho ", "xom ", "khu pho ", "ap ", "lang ",
             "p. ", "x. ", "tt. ", "q. ", "h. ", "tx. ")  # fmt: skip


@dataclass
class BoundaryReport:
    matched: list[str]
    unmatched: list[tuple[int, str, str]]  # feature number, what it said, why it did not match


def _plain(name: str) -> str:
    folded = fold(name).replace(".", ". ").replace("  ", " ").strip()
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :].strip()
    return folded


def attach_boundaries(actor: User, geojson: dict, *, level: str, under: AdminUnit, now) -> BoundaryReport:
    """Match the features of a GeoJSON FeatureCollection to units of ``level`` under ``under``, by code
    or else by name (without diacritics or prefixes such as "Xã", "Phường", "Thôn"), and store their
    shapes. Features that match nothing, or several units, are reported and left out."""
    require_role(actor)  # administrators only
    features = geojson.get("features") if isinstance(geojson, dict) else None
    if geojson.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise ValidationError({"file": [_("The file must be a GeoJSON FeatureCollection.")]})
    units = list(
        db.session.scalars(
            sa.select(AdminUnit).where(AdminUnit.level == level, AdminUnit.path.startswith(under.path, autoescape=True))
        )
    )
    by_code = {u.code: u for u in units}
    by_name: dict[str, list[AdminUnit]] = {}
    for unit in units:
        by_name.setdefault(_plain(unit.short_name or unit.name), []).append(unit)
    report = BoundaryReport([], [])
    for number, feature in enumerate(features, start=1):
        props = {fold_key(k).replace(" ", "_"): v for k, v in (feature.get("properties") or {}).items()}
        geometry = feature.get("geometry")
        code = next((str(props[k]).strip() for k in _CODE_KEYS if props.get(k) not in (None, "")), None)
        name = next((str(props[k]).strip() for k in _NAME_KEYS if props.get(k)), None)
        said = " · ".join(x for x in (code, name) if x) or _("(no code or name)")
        if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            report.unmatched.append((number, said, _("not a polygon")))
            continue
        unit = by_code.get(code) if code else None
        if unit is None and name:
            candidates = by_name.get(_plain(name), [])
            if len(candidates) > 1:
                report.unmatched.append((number, said, _("several units have this name: add their code")))
                continue
            unit = candidates[0] if candidates else None
        if unit is None:
            report.unmatched.append((number, said, _("no unit with this code or name in %(unit)s", unit=under.name)))
            continue
        unit.boundary_geojson = json.dumps({"type": "Feature", "properties": {"code": unit.code}, "geometry": geometry})
        report.matched.append(unit.name)
    record_event(
        actor,
        "boundaries.upload",
        target=under,
        detail={"matched": len(report.matched), "unmatched": len(report.unmatched)},
        now=now,
    )
    db.session.flush()
    return report
