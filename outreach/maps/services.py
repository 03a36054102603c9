"""Coverage queries for the maps: aggregated in SQL, within the actor's scope."""

import json
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import households_in_area, households_under, require_role
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household
from outreach.reports import services as report_services
from outreach.reports import targets
from outreach.reports.tables import figures_text, format_points
from outreach.text import fold, fold_key
from outreach.visits.coverage import UnitCoverage, child_levels, coverage  # noqa: F401 - the maps' own names
from outreach.visits.models import (
    Obstacle,
    Outcome,
    VisitObstacle,
    VisitRecord,
    current_visits,
    is_latest_visit,
    reached,
)

MEASURES = ("visited", "activated", "online_rate", "rate_change", "target_gap")
# Measures from the imported submission statistics (reports area), not from the households.
RATE_MEASURES = ("online_rate", "rate_change", "target_gap")


def coverage_detail(row: UnitCoverage, measure: str) -> str:
    """What a unit's popup says under a coverage measure: the counts behind the percentage."""
    if not row.has_data:
        return _("no data: no households registered yet")
    count = getattr(row, measure)
    share = format_decimal(row.share(measure))
    if measure == "visited":
        text = _("%(n)s / %(of)s households visited (%(pct)s%%)", n=count, of=row.households, pct=share)
        if row.nobody_home:  # tried, never met: said apart, never added to the visited
            text += " · " + _("%(n)s more tried: nobody home", n=row.nobody_home)
        return text
    return _("%(n)s / %(of)s households with a VNeID account (%(pct)s%%)", n=count, of=row.households, pct=share)


def rate_values(
    actor: User, unit: AdminUnit, level: str, measure: str
) -> tuple[dict[int, tuple[float, str]], report_services.Period, date | None]:
    """Per child unit: the online rate (or its change since outreach began, or its gap to the target)
    and the counts behind it; the period of the figures, and the day outreach began (for the change)."""
    period = report_services.report_period(actor, unit)
    if measure == "target_gap":  # the gap to the province's target, in points
        return targets.gap_values(actor, unit, level, period), period, None
    if measure == "online_rate":
        figures = report_services.rates_by_unit(actor, unit, period, level=level)
        return (
            {
                uid: (round(100 * rate, 1), _("%(counts)s dossiers online", counts=figures_text(f)))
                for uid, f in figures.items()
                if (rate := f.rate) is not None
            },
            period,
            None,
        )
    began = report_services.outreach_start(actor, unit)
    before_period, after_period = report_services.split_period(period, began)
    if before_period is None or after_period is None:
        return {}, period, began
    before = report_services.rates_by_unit(actor, unit, before_period, level=level)
    after = report_services.rates_by_unit(actor, unit, after_period, level=level)
    values = {}
    for uid in before.keys() & after.keys():
        b, a = before[uid], after[uid]
        if b.rate is not None and a.rate is not None:
            change = a.rate - b.rate
            values[uid] = (
                round(100 * change, 1),
                _(
                    "%(change)s: %(before)s before, %(after)s after",
                    change=format_points(change),
                    before=figures_text(b),
                    after=figures_text(a),
                ),
            )
    return values, period, began


@dataclass
class HouseholdPoint:
    id: int
    name: str
    address: str
    lat: float
    lon: float
    status: str  # not_visited | nobody_home | visited | helped | follow_up


def household_points(actor: User, unit: AdminUnit, *, today: date) -> list[HouseholdPoint]:
    """Located households under a unit with the status of their latest visit ("nobody home" only
    while nobody of the household was ever met). Never for staff."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    # The area filter once (the unit, in the actor's scope), and the visits of its households only.
    area = households_under(unit)
    met = (
        current_visits()
        .with_only_columns(VisitRecord.household_id)
        .where(reached(VisitRecord.outcome), VisitRecord.household_id.in_(area))
    )
    rows = db.session.execute(
        households_in_area(actor, unit)
        .with_only_columns(
            Household.id,
            Household.head_name,
            Household.address,
            Household.lat,
            Household.lon,
            VisitRecord.outcome,
            VisitRecord.follow_up_on,
            Household.id.in_(met).label("met"),
        )  # fmt: skip
        .outerjoin(VisitRecord, sa.and_(VisitRecord.household_id == Household.id, is_latest_visit()))
        .where(Household.lat.is_not(None), Household.lon.is_not(None))
    )
    points = []
    for hid, name, address, lat, lon, outcome, follow_up_on, was_met in rows:
        assert lat is not None and lon is not None  # the query asks for located households only
        if outcome is None:
            status = "not_visited"
        elif not was_met:
            status = "nobody_home"
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
    visits = current_visits().where(VisitRecord.household_id.in_(households_under(unit))).subquery()
    rows = db.session.execute(
        households_in_area(actor, unit)
        .with_only_columns(VisitObstacle.code, Household.lat, Household.lon)
        .join(visits, visits.c.household_id == Household.id)
        .join(VisitObstacle, VisitObstacle.visit_id == visits.c.id)
        .where(Household.lat.is_not(None), Household.lon.is_not(None))
    )
    points: dict[str, list[tuple[float, float]]] = {code.value: [] for code in Obstacle}
    for code, lat, lon in rows:
        assert lat is not None and lon is not None  # the query asks for located households only
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


def attach_boundaries(actor: User, geojson: dict, *, level: str, under: AdminUnit, now: datetime) -> BoundaryReport:
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
    for known in units:
        by_name.setdefault(_plain(known.short_name or known.name), []).append(known)
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
