"""Villages, households and consent. Every read goes through ``outreach.auth.scope``."""

import collections
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination

from outreach.audit.models import AuditEvent
from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import (
    get_household,
    households_in_scope,
    manageable_commune,
    release_out_of_scope,
    require_role,
    unit_in_scope,
)
from outreach.clock import local_today
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.consent import CONSENT_TEXTS, CONSENT_VERSION
from outreach.geo.models import (
    VILLAGE_KINDS,
    AdminUnit,
    Bounds,
    Consent,
    FormerUnit,
    Household,
    Level,
    Purpose,
    Succession,
    unit_names,
)
from outreach.geo.phone import PhoneError, normalize_phone
from outreach.requests.models import HelpRequest
from outreach.sms.models import InboundSms, SmsMessage
from outreach.text import clean, fold
from outreach.visits.models import SENSITIVE_OBSTACLES, AnonymousFact, VisitObstacle, VisitRecord

# --- units -----------------------------------------------------------------------------------


def word_starts(column, word: str):
    """``column`` (folded text) has a word starting with ``word``."""
    return sa.or_(column.startswith(word, autoescape=True), column.contains(f" {word}", autoescape=True))


def search_units(actor: User, query: str, *, level: str | None = None, limit: int = 30) -> list[AdminUnit]:
    """Units in scope whose name contains the query, ignoring diacritics and case; then today's
    communes that a commune of that name before 1/7/2025 went into ("Tân Hà": Phường Minh Xuân)."""
    words = fold(query).split()
    stmt = sa.select(AdminUnit).where(unit_in_scope(actor))
    for word in words:
        # Words match from their start: "ha" finds "Tân Hà", not "Tân Thành".
        stmt = stmt.where(word_starts(AdminUnit.name_folded, word))
    if level:
        stmt = stmt.where(AdminUnit.level == level)
    order = sa.case({Level.PROVINCE: 0, Level.DISTRICT: 1, Level.COMMUNE: 2}, value=AdminUnit.level, else_=3)
    found = list(db.session.scalars(stmt.order_by(order, AdminUnit.sort_key, AdminUnit.id).limit(limit)))
    if words and len(found) < limit and level in (None, Level.COMMUNE):
        seen = {u.id for u in found}
        formerly = (
            sa.select(Succession.unit_id)
            .join(FormerUnit, FormerUnit.id == Succession.former_id)
            .where(*(word_starts(FormerUnit.name_folded, word) for word in words))
        )
        successors = (
            sa.select(AdminUnit)
            .where(AdminUnit.id.in_(formerly), unit_in_scope(actor))
            .order_by(AdminUnit.sort_key, AdminUnit.id)
            .limit(limit)
        )
        found += [u for u in db.session.scalars(successors) if u.id not in seen][: limit - len(found)]
    return found


def former_names(units: list[AdminUnit], query: str) -> dict[int, list[str]]:
    """For units a search found only through a former commune's name: those names ("Phường Tân Hà"),
    by unit id."""
    words = fold(query).split()
    wanted = [u.id for u in units if u.level == Level.COMMUNE and not all(_starts(u.name_folded, w) for w in words)]
    if not words or not wanted:
        return {}
    rows = db.session.execute(
        sa.select(Succession.unit_id, FormerUnit.name)
        .join(FormerUnit, FormerUnit.id == Succession.former_id)
        .where(Succession.unit_id.in_(wanted), *(word_starts(FormerUnit.name_folded, word) for word in words))
        .order_by(FormerUnit.sort_key, FormerUnit.id)
    )
    names: dict[int, list[str]] = {}
    for unit_id, name in rows:
        names.setdefault(unit_id, []).append(name)
    return names


def _starts(folded: str, word: str) -> bool:
    return folded.startswith(word) or f" {word}" in folded


def child_units(actor: User, unit: AdminUnit) -> list[tuple[AdminUnit, int]]:
    """The children of a unit in scope, each with its number of households (not erased)."""
    village = sa.orm.aliased(AdminUnit)
    counts = (
        sa.select(sa.func.count(Household.id))
        .join(village, Household.village_id == village.id)
        .where(village.path.startswith(AdminUnit.path, autoescape=False), Household.erased_at.is_(None))
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(AdminUnit, counts)
        .where(AdminUnit.parent_id == unit.id, unit_in_scope(actor))
        .order_by(AdminUnit.sort_key)
    )
    return [(u, n) for u, n in rows]


def root_units(actor: User) -> list[AdminUnit]:
    """Where browsing starts: the actor's own unit, or every province for an admin."""
    if actor.role != Role.ADMIN:
        return [actor.scope_unit] if actor.scope_unit is not None else []
    return list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.level == Level.PROVINCE)
            .order_by(AdminUnit.dataset, AdminUnit.sort_key)
        )
    )


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


# --- households ------------------------------------------------------------------------------


@dataclass
class HouseholdInput:
    village_id: int | None
    head_name: str
    address: str = ""
    phone: str = ""
    members: int | None = 1
    lat: float | None = None
    lon: float | None = None
    notes: str = ""
    consent_store_phone: bool = False
    consent_sms: bool = False


def validate_household(
    data: HouseholdInput, *, phone_consent_on_record: bool = False
) -> tuple[dict[str, list[str]], str | None]:
    """Field errors, and the phone in E.164. Shared by the form, the API and the CSV import."""
    errors: dict[str, list[str]] = {}
    phone = None
    if not clean(data.head_name):
        errors["head_name"] = [_("Enter the name of the head of household.")]
    elif len(clean(data.head_name)) > 120:
        errors["head_name"] = [_("The name is too long (at most 120 characters).")]
    if len(clean(data.address)) > 255:
        errors["address"] = [_("The address is too long (at most 255 characters).")]
    try:
        phone = normalize_phone(data.phone)
    except PhoneError as exc:
        errors["phone"] = [str(exc.args[0])]
    if phone and not (data.consent_store_phone or phone_consent_on_record):
        errors.setdefault("phone", []).append(
            _(
                "A phone number can only be kept with the resident's consent: tick “agrees to store the phone number”, or leave the number out."  # noqa: E501
            )
        )
    if data.consent_sms and not phone and "phone" not in errors:
        errors.setdefault("consent_sms", []).append(_("SMS consent needs a phone number."))
    if data.members is None or not (0 <= data.members <= 100):
        errors["members"] = [_("Number of members must be a whole number from 0 to 100.")]
    if (data.lat is None) != (data.lon is None):
        errors["lat"] = [_("Give both latitude and longitude, or neither.")]
    elif data.lat is not None and data.lon is not None and not (-90 <= data.lat <= 90 and -180 <= data.lon <= 180):
        errors["lat"] = [_("Latitude or longitude out of range.")]
    return errors, phone


def possible_duplicates(
    actor: User, village_id: int, head_name: str, phone: str | None, *, exclude_id: int | None = None
) -> list[Household]:
    """Households in scope with the same phone, or the same head name (without diacritics) in the same village."""
    same = Household.head_name_folded == fold(head_name)
    condition = sa.and_(Household.village_id == village_id, same)
    if phone:
        condition = sa.or_(condition, Household.phone == phone)
    stmt = households_in_scope(actor).where(condition)
    if exclude_id is not None:
        stmt = stmt.where(Household.id != exclude_id)
    return list(db.session.scalars(stmt.limit(10)))


class DuplicateWarning(Exception):
    def __init__(self, candidates: list[Household]):
        self.candidates = candidates
        super().__init__(f"{len(candidates)} possible duplicate(s)")


def _village_for_write(actor: User, village_id: int | None) -> AdminUnit:
    if village_id is None:
        raise ValidationError({"village_id": [_("Choose the village.")]})
    village = db.session.scalar(
        sa.select(AdminUnit).where(AdminUnit.id == village_id, AdminUnit.level == Level.VILLAGE, unit_in_scope(actor))
    )
    if village is None:
        raise ValidationError({"village_id": [_("Choose a village of your commune.")]})
    return village


def _grant(household: Household, purpose: Purpose, actor: User | None, now: datetime, method: str) -> None:
    if household.active_consent(purpose) is None:
        household.consents.append(
            Consent(
                purpose=purpose,
                text_version=CONSENT_VERSION,
                text=CONSENT_TEXTS[purpose],
                method=method,
                collected_by_id=actor.id if actor else None,
                collected_at=now,
            )
        )


def create_household(actor: User, data: HouseholdInput, *, now: datetime, confirm_duplicate: bool = False) -> Household:
    """Register a household, with the consents the resident gave. Leaders, admins and members in the field."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    errors, phone = validate_household(data)
    village: AdminUnit | None = None
    try:
        village = _village_for_write(actor, data.village_id)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    assert village is not None and data.members is not None  # else the errors above said so
    if not confirm_duplicate:
        candidates = possible_duplicates(actor, village.id, data.head_name, phone)
        if candidates:
            raise DuplicateWarning(candidates)
    household = Household(
        village=village,
        head_name=clean(data.head_name),
        head_name_folded=fold(data.head_name),
        address=clean(data.address),
        address_folded=fold(data.address),
        phone=phone,
        members=data.members,
        lat=data.lat,
        lon=data.lon,
        notes=clean(data.notes),
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(household)
    if phone and data.consent_store_phone:
        _grant(household, Purpose.STORE_PHONE, actor, now, "in_person")
        if data.consent_sms:
            _grant(household, Purpose.RECEIVE_SMS, actor, now, "in_person")
    db.session.flush()
    return household


def update_household(
    actor: User, household_id: int, data: HouseholdInput, *, now: datetime, confirm_duplicate: bool = False
) -> Household:
    """Change a household's details (leaders, and members in their area: the field corrects itself).
    Consent is granted here and withdrawn with ``withdraw_consent``."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    household = get_household(actor, household_id)
    on_record = household.active_consent(Purpose.STORE_PHONE) is not None
    errors, phone = validate_household(data, phone_consent_on_record=on_record)
    village: AdminUnit | None = None
    try:
        village = _village_for_write(actor, data.village_id)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    assert village is not None and data.members is not None  # else the errors above said so
    if not confirm_duplicate:
        candidates = possible_duplicates(actor, village.id, data.head_name, phone, exclude_id=household.id)
        if candidates:
            raise DuplicateWarning(candidates)
    moved = household.village_id != village.id
    household.village = village
    household.head_name = clean(data.head_name)
    household.head_name_folded = fold(data.head_name)
    household.address = clean(data.address)
    household.address_folded = fold(data.address)
    household.phone = phone
    household.members = data.members
    household.lat, household.lon = data.lat, data.lon
    household.notes = clean(data.notes)
    household.updated_at = now
    if phone:
        if data.consent_store_phone:
            _grant(household, Purpose.STORE_PHONE, actor, now, "in_person")
        if data.consent_sms:
            _grant(household, Purpose.RECEIVE_SMS, actor, now, "in_person")
    else:
        _withdraw(household, Purpose.STORE_PHONE, actor, now)
    db.session.flush()
    if moved:
        # Whoever had it checked out may not see it in its new village: the leader reassigns it.
        release_out_of_scope(household_ids=[household.id], now=now)
    return household


def _withdraw(household: Household, purpose: Purpose, actor: User | None, now: datetime) -> bool:
    changed = False
    # No phone means no SMS: withdrawing the phone withdraws SMS too, and forgets the number.
    purposes = (Purpose.STORE_PHONE, Purpose.RECEIVE_SMS) if purpose == Purpose.STORE_PHONE else (purpose,)
    for consent in household.consents:
        if consent.purpose in purposes and consent.withdrawn_at is None:
            consent.withdrawn_at = now
            consent.withdrawn_by_id = actor.id if actor else None
            changed = True
    if purpose == Purpose.STORE_PHONE and household.phone:
        household.phone = None
        changed = True
    if purpose == Purpose.SENSITIVE:
        # Without the consent the household's sensitive facts are no longer linked to it: counted only.
        unlink_sensitive_facts(VisitRecord.household_id == household.id)
    return changed


# --- sensitive facts -------------------------------------------------------------------------


def count_anonymously(village_id: int, day, code: str, n: int = 1) -> None:
    """Add ``n`` to a village's anonymous count of a sensitive fact on a day (linked to nobody)."""
    add_anonymous_counts({(village_id, day, code): n})


def add_anonymous_counts(counts: Mapping[tuple[int, date, str], int]) -> None:
    """Add to villages' anonymous counts of sensitive facts, ``{(village_id, day, code): n}``: one query
    for the counts already there, whatever the number of facts (a synced batch holds hundreds)."""
    if not counts:
        return
    existing = {
        (row.village_id, row.day, row.code): row
        for row in db.session.scalars(
            sa.select(AnonymousFact).where(
                AnonymousFact.village_id.in_({village for village, _day, _code in counts}),
                AnonymousFact.day.in_({day for _village, day, _code in counts}),
                AnonymousFact.code.in_({code for _village, _day, code in counts}),
            )
        )
    }
    for (village_id, day, code), n in counts.items():
        row = existing.get((village_id, day, code))
        if row is None:
            db.session.add(AnonymousFact(village_id=village_id, day=day, code=code, count=n))
        else:
            row.count += n
    db.session.flush()


def unlink_sensitive_facts(condition, *, dry_run: bool = False) -> int:
    """Move the sensitive obstacles of the visits matching ``condition`` (on ``VisitRecord``) to their
    village's anonymous counts, and delete the links to the household. Returns how many facts."""
    rows = db.session.execute(
        sa.select(VisitObstacle.visit_id, VisitObstacle.code, VisitRecord.device_time, Household.village_id)
        .join(VisitRecord, VisitRecord.id == VisitObstacle.visit_id)
        .join(Household, Household.id == VisitRecord.household_id)
        .where(VisitObstacle.code.in_(sorted(SENSITIVE_OBSTACLES)), condition)
    ).all()
    if dry_run or not rows:
        return len(rows)
    counts: collections.Counter[tuple[int, date, str]] = collections.Counter(
        (village_id, local_today(device_time), code) for _visit_id, code, device_time, village_id in rows
    )
    add_anonymous_counts(counts)
    for visit_id, code, _time, _village in rows:
        db.session.execute(
            sa.delete(VisitObstacle)
            .where(VisitObstacle.visit_id == visit_id, VisitObstacle.code == code)
            .execution_options(synchronize_session=False)
        )
    db.session.expire_all()
    return len(rows)


def withdraw_consent(actor: User, household_id: int, purpose: str, *, now: datetime) -> Household:
    """One click: the resident no longer agrees. Withdrawing the phone consent also deletes the number."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    if purpose not in set(Purpose):
        raise ValidationError({"purpose": [_("Unknown consent purpose.")]})
    household = get_household(actor, household_id)
    if _withdraw(household, Purpose(purpose), actor, now):
        household.updated_at = now
        record_event(actor, "consent.withdraw", target=household, detail={"purpose": purpose}, now=now)
    db.session.flush()
    return household


def grant_consent(actor: User, household_id: int, purpose: str, *, now: datetime) -> Household:
    """Record consent the resident has just given (read to them from the current text)."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    household = get_household(actor, household_id)
    if purpose == Purpose.RECEIVE_SMS and not (household.phone and household.active_consent(Purpose.STORE_PHONE)):
        raise ValidationError({"purpose": [_("SMS consent needs a phone number kept with consent.")]})
    if purpose not in set(Purpose):
        raise ValidationError({"purpose": [_("Unknown consent purpose.")]})
    if household.active_consent(purpose) is None:
        _grant(household, Purpose(purpose), actor, now, "in_person")
        household.updated_at = now
        record_event(actor, "consent.grant", target=household, detail={"purpose": purpose}, now=now)
    db.session.flush()
    return household


MAX_HOUSEHOLDS_PER_PAGE = 100  # whatever a caller asks


def list_households(
    actor: User,
    *,
    query: str = "",
    village_id: int | None = None,
    unit: AdminUnit | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Pagination:
    """One page of the households in scope matching a search (name, address or phone, without
    diacritics), with their total. A page below 1 is the first; one past the last is empty."""
    stmt = households_in_scope(actor)
    if unit is not None:
        stmt = stmt.where(AdminUnit.path.startswith(unit.path, autoescape=True))
    if village_id is not None:
        stmt = stmt.where(Household.village_id == village_id)
    for word in fold(query).split():
        digits = "".join(ch for ch in word if ch.isdigit())
        conditions = [word_starts(Household.head_name_folded, word), word_starts(Household.address_folded, word)]
        if len(digits) >= 3 and digits == word:
            conditions.append(Household.phone.contains(digits.lstrip("0"), autoescape=True))
        stmt = stmt.where(sa.or_(*conditions))
    return db.paginate(
        stmt.order_by(AdminUnit.sort_key, Household.head_name_folded, Household.id),
        page=page,
        per_page=per_page,
        max_per_page=MAX_HOUSEHOLDS_PER_PAGE,
        error_out=False,
        count=True,
    )


def export_household(actor: User, household_id: int, *, now: datetime) -> dict:
    """Everything held about one household, for the resident who asks (and an audit entry)."""
    require_role(actor, Role.LEADER)
    household = get_household(actor, household_id, include_restricted=True)
    record_event(actor, "household.export", target=household, now=now)
    village = household.village
    return {
        "exported_at": now.isoformat(),
        "household": {
            "id": household.id,
            "head_name": household.head_name,
            "address": household.address,
            "phone": household.phone,
            "members": household.members,
            "location": {"lat": household.lat, "lon": household.lon} if household.lat is not None else None,
            "notes": household.notes,
            "village": village.name,
            "commune": " / ".join(u.name for u in village.ancestors()),
            "created_at": household.created_at.isoformat(),
            "updated_at": household.updated_at.isoformat(),
        },
        "consents": [
            {
                "purpose": c.purpose,
                "text_version": c.text_version,
                "text": c.text,
                "method": c.method,
                "collected_at": c.collected_at.isoformat(),
                "collected_by": c.collected_by.full_name or c.collected_by.username if c.collected_by else None,
                "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
            }
            for c in household.consents
        ],
        "sensitive_facts": [
            {"visit_on": local_today(when).isoformat(), "fact": code}
            for when, code in db.session.execute(
                sa.select(VisitRecord.device_time, VisitObstacle.code)
                .join(VisitObstacle, VisitObstacle.visit_id == VisitRecord.id)
                .where(VisitRecord.household_id == household.id, VisitObstacle.code.in_(sorted(SENSITIVE_OBSTACLES)))
                .order_by(VisitRecord.device_time)
            )
        ],
        "restricted_since": household.restricted_at.isoformat() if household.restricted_at else None,
        "accessed_by": [
            {"at": e.at.isoformat(), "who": e.actor_name, "what": e.action} for e in household_reads(household.id)
        ],
        "help_requests": [
            {
                "asked_at": r.created_at.isoformat(),
                "source": r.source,
                "name": r.name,
                "phone": r.phone,
                "need": r.need,
                "preferred_time": r.preferred_time,
                "note": r.note,
                "status": r.status,
                "consent_text": r.consent_text,
                "consent_at": r.consent_at.isoformat() if r.consent_at else None,
                "consent_channel": r.consent_channel,
                "closed_at": r.closed_at.isoformat() if r.closed_at else None,
            }
            for r in _help_requests_of(household)
        ],
    }


READ_ACTIONS = ("read.household", "read.api", "household.export")


def household_reads(household_id: int, *, limit: int = 500) -> list[AuditEvent]:
    """Who opened, fetched or exported this household's data, newest first (kept ``RETENTION_DAYS["reads"]``)."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.target_type == "Household",
                AuditEvent.target_id == str(household_id),
                AuditEvent.action.in_(READ_ACTIONS),
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def _help_requests_of(household: Household) -> list[HelpRequest]:
    """The requests for help this household made: linked to it, or from its phone number in its commune."""
    who = [HelpRequest.household_id == household.id]
    if household.phone:
        who.append(sa.and_(HelpRequest.phone == household.phone, HelpRequest.commune_id == household.village.parent_id))
    return list(
        db.session.scalars(
            sa.select(HelpRequest).where(sa.or_(*who), HelpRequest.erased_at.is_(None)).order_by(HelpRequest.id)
        )
    )


def erase_household(actor: User, household_id: int, *, now: datetime) -> None:
    """Erase a resident's data on request: the row stays only as an anonymous count in its village."""
    require_role(actor, Role.LEADER)
    household = get_household(actor, household_id, include_restricted=True)
    unlink_sensitive_facts(VisitRecord.household_id == household.id)
    db.session.execute(  # what the team wrote about them goes too; the visits stay as counts
        sa.update(VisitRecord)
        .where(VisitRecord.household_id == household.id)
        .values(notes="", obstacle_other="", lat=None, lon=None, accuracy_m=None, location_consent=False)
        .execution_options(synchronize_session=False)
    )
    # Its requests for help name the resident and hold the number: only what counts them stays.
    requests = _help_requests_of(household)
    messages = [m for r in requests for m in (r.ack_message_id, r.notice_message_id) if m]
    for request in requests:
        request.name, request.phone, request.note, request.form_token = "", None, "", ""
        request.erased_at = request.updated_at = now
    if messages:
        db.session.execute(
            sa.update(SmsMessage)
            .where(SmsMessage.id.in_(messages))
            .values(
                to_phone="",
                body="",
                status=sa.case((SmsMessage.status == "queued", "cancelled"), else_=SmsMessage.status),
            )
            .execution_options(synchronize_session=False)
        )
    household.head_name = ""
    household.head_name_folded = ""
    household.address = ""
    household.address_folded = ""
    household.phone = None
    household.lat = household.lon = None
    household.notes = ""
    household.erased_at = now
    household.updated_at = now
    household.consents.clear()  # the consent texts name nobody, but the link to the household goes
    # SMS sent to and received from the household name them and hold the number: only the rows stay.
    db.session.execute(
        sa.update(SmsMessage)
        .where(SmsMessage.household_id == household.id)
        .values(to_phone="", body="", household_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(InboundSms)
        .where(InboundSms.household_id == household.id)
        .values(from_phone="", body="", household_id=None)
        .execution_options(synchronize_session=False)
    )
    record_event(actor, "household.erase", target=household, detail={"village_id": household.village_id}, now=now)
    db.session.flush()


def get_village(actor: User, village_id: int) -> AdminUnit:
    village = db.session.scalar(
        sa.select(AdminUnit).where(AdminUnit.id == village_id, AdminUnit.level == Level.VILLAGE, unit_in_scope(actor))
    )
    if village is None:
        raise NotFound(village_id)
    return village
