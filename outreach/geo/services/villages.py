"""Villages: adding, renaming and deleting them, and the check that a village lies in its commune."""

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import User
from outreach.auth.scope import (
    manageable_commune,
    unit_in_scope,
)
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import (
    VILLAGE_KINDS,
    AdminUnit,
    Bounds,
    FormerUnit,
    Household,
    Level,
    Succession,
    unit_names,
)
from outreach.text import clean, fold

# --- villages --------------------------------------------------------------------------------


@dataclass
class VillageInput:
    name: str
    kind: str = "Thôn"
    lat: float | None = None
    lon: float | None = None


# A 2025 commune has no bounding box in the dataset: a point counts as in it when it lies in the box of one
# of the former communes it took land from (widened by MARGIN_DEG), or within AREA_REACH radii of its
# centre, a radius being that of a disc of the commune's area. Generous on purpose: it is there to refuse
# a point in another district or province (a typing slip, swapped coordinates), not to draw borders.
MARGIN_DEG = 0.01  # about 1 km
AREA_REACH = 2.0
MIN_RADIUS_KM = 3.0


@dataclass
class CommuneArea:
    """Where a commune's villages may lie: its own box (legacy), else its former communes' boxes and a
    disc around its centre (2025)."""

    boxes: list[Bounds]
    centre: tuple[float, float] | None = None
    radius_km: float | None = None

    @property
    def known(self) -> bool:
        return bool(self.boxes) or (self.centre is not None and self.radius_km is not None)

    def contains(self, lat: float, lon: float) -> bool:
        if not self.known:
            return True  # nothing to check against
        if any(b.south <= lat <= b.north and b.west <= lon <= b.east for b in self.boxes):
            return True
        if self.centre is None or self.radius_km is None:
            return False
        return _km(self.centre, (lat, lon)) <= self.radius_km


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def commune_area(commune: AdminUnit) -> CommuneArea:
    """The area a commune's village positions are checked against."""
    if commune.bounds is not None:
        return CommuneArea([commune.bounds])
    formers = db.session.scalars(
        sa.select(FormerUnit)
        .join(Succession, Succession.former_id == FormerUnit.id)
        .where(Succession.unit_id == commune.id)
    ).all()
    boxes = [
        Bounds(b.south - MARGIN_DEG, b.west - MARGIN_DEG, b.north + MARGIN_DEG, b.east + MARGIN_DEG)
        for b in (f.bounds for f in formers)
        if b is not None
    ]
    from outreach.geo.units import commune_area_km2  # the package's data loads pandas: only when needed

    area = commune_area_km2(commune.dataset, commune.code)
    if commune.lat is None or commune.lon is None or area is None:
        return CommuneArea(boxes)
    radius = max(MIN_RADIUS_KM, AREA_REACH * math.sqrt(area / math.pi))
    return CommuneArea(boxes, (commune.lat, commune.lon), radius)


def check_village(commune: AdminUnit, data: VillageInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not clean(data.name):
        errors.setdefault("name", []).append(_("Enter the village name."))
    if data.kind not in VILLAGE_KINDS:
        errors.setdefault("kind", []).append(_("Choose one of: %(kinds)s.", kinds=", ".join(VILLAGE_KINDS)))
    if (data.lat is None) != (data.lon is None):
        errors.setdefault("lat", []).append(_("Give both latitude and longitude, or neither."))
    elif data.lat is not None and data.lon is not None:
        if not (-90 <= data.lat <= 90 and -180 <= data.lon <= 180):
            errors.setdefault("lat", []).append(_("Latitude or longitude out of range."))
        elif commune.has_bounds and not commune.contains(data.lat, data.lon):
            errors.setdefault("lat", []).append(
                _(
                    "This point (%(lat)s, %(lon)s) is outside %(commune)s.",
                    lat=data.lat,
                    lon=data.lon,
                    commune=commune.name,
                )
            )
        elif not commune.has_bounds and not commune_area(commune).contains(data.lat, data.lon):
            errors.setdefault("lat", []).append(
                _(
                    "Latitude and longitude: the point (%(lat)s, %(lon)s) is far from %(commune)s (outside the "
                    "former communes it was made of, and farther from its centre than its size allows). Check "
                    "the numbers, or that latitude and longitude are not swapped.",
                    lat=data.lat,
                    lon=data.lon,
                    commune=commune.name,
                )
            )
    return errors


def _next_village_code(commune: AdminUnit) -> str:
    codes = db.session.scalars(
        sa.select(AdminUnit.code).where(AdminUnit.parent_id == commune.id, AdminUnit.level == Level.VILLAGE)
    ).all()
    numbers = [int(c.rsplit("-", 1)[1]) for c in codes if "-" in c and c.rsplit("-", 1)[1].isdigit()]
    return f"{commune.code}-{max(numbers, default=0) + 1:03d}"


def usual_village_kind(commune: AdminUnit) -> str:
    """Wards and towns are divided into "tổ dân phố", rural communes into "thôn"."""
    return "Tổ dân phố" if commune.kind in ("Phường", "Thị trấn") else "Thôn"


def village_household_count(village: AdminUnit) -> int:
    """Households of a village, erased ones included (they still count, anonymously)."""
    return db.session.execute(
        sa.select(sa.func.count(Household.id)).where(Household.village_id == village.id)
    ).scalar_one()


def delete_village(actor: User, village_id: int, *, now: datetime) -> None:
    """Delete a village entered by mistake; only while it has no household and no user."""
    village = get_village(actor, village_id)
    manageable_commune(actor, village)
    users = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.scope_unit_id == village.id))
    if village_household_count(village) or users:
        raise ValidationError(
            {"": [_("%(name)s has households or team members; move them first, then delete it.", name=village.name)]}
        )
    record_event(
        actor, "village.delete", detail={"village": village.name, "commune": village.parent_unit.name}, now=now
    )
    db.session.delete(village)
    db.session.flush()


def find_village(commune: AdminUnit, name: str) -> AdminUnit | None:
    """A village of the commune by its name, with or without its kind ("Phú Bình" or "Thôn Phú Bình")."""
    folded = fold(name)
    return db.session.scalar(
        sa.select(AdminUnit)
        .where(
            AdminUnit.parent_id == commune.id,
            AdminUnit.level == Level.VILLAGE,
            sa.or_(
                AdminUnit.name_folded.endswith(f"| {folded}", autoescape=True),
                AdminUnit.name_folded.startswith(f"{folded} |", autoescape=True),
            ),
        )
        .limit(1)
    )


def save_village(actor: User, commune: AdminUnit, data: VillageInput, *, village: AdminUnit | None = None) -> AdminUnit:
    """Create a village of a commune (or update ``village``); a second village of the same name is refused."""
    commune = manageable_commune(actor, commune)
    normalize_village_name(data)
    errors = check_village(commune, data)
    same = find_village(commune, data.name) if data.name else None
    if same is not None and same is not village:
        errors.setdefault("name", []).append(
            _("%(commune)s already has a village called “%(name)s”.", commune=commune.name, name=same.short_name)
        )
    if errors:
        raise ValidationError(errors)
    if village is None:
        code = _next_village_code(commune)
        village = AdminUnit(
            dataset=commune.dataset, code=code, level=Level.VILLAGE, parent_id=commune.id, path=f"{commune.path}{code}/"
        )
        db.session.add(village)
    for column, value in village_columns(data).items():
        setattr(village, column, value)
    db.session.flush()
    return village


def normalize_village_name(data: VillageInput) -> None:
    """The name as stored: cleaned, without the kind when it was typed with it ("Tổ dân phố 11")."""
    data.name = clean(data.name)
    if fold(data.name).startswith(fold(data.kind) + " "):
        data.name = data.name[len(data.kind) :].strip()


def village_columns(data: VillageInput) -> dict:
    """The columns a village's input sets (its kind, names and centre), for one village or many at once."""
    return {"kind": data.kind, **unit_names(f"{data.kind} {data.name}", data.name), "lat": data.lat, "lon": data.lon}


def get_village(actor: User, village_id: int) -> AdminUnit:
    village = db.session.scalar(
        sa.select(AdminUnit).where(AdminUnit.id == village_id, AdminUnit.level == Level.VILLAGE, unit_in_scope(actor))
    )
    if village is None:
        raise NotFound(village_id)
    return village
