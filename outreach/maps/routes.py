import json
from datetime import date
from typing import TYPE_CHECKING, TypedDict

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from outreach.auth.models import Role
from outreach.auth.scope import get_unit, require_role
from outreach.auth.services import find_unit
from outreach.clock import local_today
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import Level
from outreach.labels import LEVEL_LABELS, OBSTACLE_LABELS
from outreach.maps import builders, services
from outreach.maps.forms import BoundaryForm
from outreach.planning.services import walk_list
from outreach.types import utcnow

if TYPE_CHECKING:
    from outreach.planning.services import WalkStop
    from outreach.reports.services import Period

maps_bp = Blueprint("maps", __name__, url_prefix="/maps")


@maps_bp.before_request
@login_required
def logged_in():
    pass


class _Tiles(TypedDict):
    tiles_url: str | None
    attribution: str
    words: builders.MapWords


def _tiles() -> _Tiles:
    """The tile server the settings name, and the words of the map's controls in the user's language, as
    every map builder takes them."""
    return {
        "tiles_url": current_app.config["MAP_TILES_URL"],
        "attribution": current_app.config["MAP_TILES_ATTRIBUTION"],
        "words": builders.MapWords(
            zoom_in=_("Zoom in"), zoom_out=_("Zoom out"), layers=_("Layers"), close=_("Close this box")
        ),
    }


@maps_bp.get("/")
def index():
    if current_user.scope_unit is None:
        return redirect(url_for("geo.units"))
    return redirect(url_for("maps.unit", unit_id=current_user.scope_unit_id))


@maps_bp.get("/units/<int:unit_id>")
def unit(unit_id: int):
    """The coverage map of a unit's children, coloured by a measure."""
    unit = get_unit(current_user, unit_id)
    measure = request.args.get("measure", "visited")
    if measure not in services.MEASURES:
        measure = "visited"
    levels = services.child_levels(unit)
    level = request.args.get("level", levels[0] if levels else None)
    if levels and level not in levels:
        level = levels[0]
    rows = services.coverage(current_user, unit, level) if level in levels else []
    rates: dict[int, tuple[float, str]] = {}
    period: Period | None = None
    began: date | None = None
    if measure in services.RATE_MEASURES and level in levels:
        rates, period, began = services.rate_values(current_user, unit, level, measure)
    shapes = []
    for r in rows:
        if measure in services.RATE_MEASURES:
            value, detail = rates.get(r.id, (None, _("no data: no submission statistics for this unit")))
        else:
            value, detail = r.share(measure), services.coverage_detail(r, measure)
        shapes.append(
            builders.UnitShape(r.id, r.name, r.lat, r.lon, r.boundary, r.households, value, detail, _("Open this map"))
        )
    special = {"rate_change": builders.CHANGE_CLASSES, "target_gap": builders.GAP_CLASSES}
    classes = special.get(measure, builders.CLASSES)
    parts = builders.coverage_map(
        shapes,
        drill_url=lambda child_id: url_for("maps.unit", unit_id=child_id, measure=measure),
        classes=classes,
        **_tiles(),
    )
    return render_template(
        "maps/coverage.html", unit=unit, rows=rows, parts=parts, measure=measure, level=level, levels=levels,
        classes=classes, no_data=builders.NO_DATA, LEVEL_LABELS=LEVEL_LABELS, rates=rates, period=period,
        began=began, can_see_households=current_user.role in (Role.ADMIN, Role.LEADER, Role.MEMBER),
    )  # fmt: skip


@maps_bp.get("/units/<int:unit_id>/households")
def households(unit_id: int):
    """Households coloured by visit status, and where obstacles were met. Never for staff."""
    require_role(current_user, Role.LEADER, Role.MEMBER)
    unit = get_unit(current_user, unit_id)
    if unit.level not in (Level.COMMUNE, Level.VILLAGE):
        abort(404)
    status_labels = {
        "not_visited": _("not visited yet"),
        "nobody_home": _("tried, nobody home"),
        "visited": _("visited"),
        "helped": _("helped"),
        "follow_up": _("follow-up due"),
    }
    points = services.household_points(current_user, unit, today=local_today())
    dots = [
        builders.HouseholdDot(
            p.lat,
            p.lon,
            p.status,
            " · ".join(x for x in (p.name, p.address, status_labels[p.status]) if x),
            url_for("geo.household", household_id=p.id),
        )
        for p in points
    ]
    obstacles = services.obstacle_points(current_user, unit)
    parts = builders.field_map(
        dots, obstacles, households_name=_("Households"), open_label=_("Open the household"),
        obstacle_names={code: str(label) for code, label in OBSTACLE_LABELS.items()}, **_tiles(),
    )  # fmt: skip
    return render_template(
        "maps/households.html", unit=unit, parts=parts, total=len(points), status_labels=status_labels,
        colours=builders.STATUS_COLOURS, obstacles={c: len(p) for c, p in obstacles.items()},
        summary=ngettext("%(num)s household with a location", "%(num)s households with a location", len(points)),
    )  # fmt: skip


@maps_bp.get("/walk")
def walk():
    """The member's walk list for today on a map, in walking order."""
    require_role(current_user, Role.LEADER, Role.MEMBER)
    stops: list[WalkStop] = []
    points: list[builders.WalkPoint] = []
    for stop in walk_list(current_user, today=local_today()):
        if (where := stop.household.location) is not None:
            stops.append(stop)
            points.append(builders.WalkPoint(*where, stop.household.head_name))
    parts = builders.walk_map(points, **_tiles())
    return render_template("maps/walk.html", parts=parts, stops=stops)


@maps_bp.route("/boundaries", methods=["GET", "POST"])
def boundaries():
    """Administrators upload boundary polygons (GeoJSON) for the units under a unit."""
    require_role(current_user)
    form = BoundaryForm()
    report = None
    if form.validate_on_submit():
        try:
            under = find_unit(form.unit.data)
            data = json.load(form.file.data.stream)
            report = services.attach_boundaries(current_user, data, level=form.level.data, under=under, now=utcnow())
        except ValidationError as exc:  # before ValueError, of which it is a kind
            for messages in exc.errors.values():
                form.unit.errors = list(form.unit.errors) + [str(m) for m in messages]
        except ValueError:  # not JSON
            form.file.errors = [_("The file is not valid GeoJSON (JSON).")]
        else:
            db.session.commit()
    return render_template("maps/boundaries.html", form=form, report=report)
