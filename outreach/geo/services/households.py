"""Households: checking, creating, updating them, and the consent given with them."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.auth.models import Role, User
from outreach.auth.scope import (
    get_household,
    households_in_scope,
    require_role,
    unit_in_scope,
)
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import (
    AdminUnit,
    Household,
    Level,
    Purpose,
)
from outreach.geo.phone import PhoneError, normalize_phone
from outreach.geo.services.consents import grant_purpose, withdraw_purpose
from outreach.geo.signals import household_moved
from outreach.text import clean, fold

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


def _checked(
    actor: User,
    data: HouseholdInput,
    *,
    confirm_duplicate: bool,
    phone_consent_on_record: bool = False,
    exclude_id: int | None = None,
) -> tuple[AdminUnit, str | None, int]:
    """Every field checked at once (the village among them), then possible duplicates unless confirmed:
    the village to write in, the phone in E.164 and the number of members."""
    errors, phone = validate_household(data, phone_consent_on_record=phone_consent_on_record)
    village: AdminUnit | None = None
    try:
        village = _village_for_write(actor, data.village_id)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    assert village is not None and data.members is not None  # else the errors above said so
    if not confirm_duplicate:
        candidates = possible_duplicates(actor, village.id, data.head_name, phone, exclude_id=exclude_id)
        if candidates:
            raise DuplicateWarning(candidates)
    return village, phone, data.members


def create_household(actor: User, data: HouseholdInput, *, now: datetime, confirm_duplicate: bool = False) -> Household:
    """Register a household, with the consents the resident gave. Leaders, admins and members in the field."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    village, phone, members = _checked(actor, data, confirm_duplicate=confirm_duplicate)
    household = Household(
        village=village,
        head_name=clean(data.head_name),
        head_name_folded=fold(data.head_name),
        address=clean(data.address),
        address_folded=fold(data.address),
        phone=phone,
        members=members,
        lat=data.lat,
        lon=data.lon,
        notes=clean(data.notes),
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    db.session.add(household)
    if phone and data.consent_store_phone:
        grant_purpose(household, Purpose.STORE_PHONE, actor, now, "in_person")
        if data.consent_sms:
            grant_purpose(household, Purpose.RECEIVE_SMS, actor, now, "in_person")
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
    village, phone, members = _checked(
        actor, data, confirm_duplicate=confirm_duplicate, phone_consent_on_record=on_record, exclude_id=household.id
    )
    moved = household.village_id != village.id
    household.village = village
    household.head_name = clean(data.head_name)
    household.head_name_folded = fold(data.head_name)
    household.address = clean(data.address)
    household.address_folded = fold(data.address)
    household.phone = phone
    household.members = members
    household.lat, household.lon = data.lat, data.lon
    household.notes = clean(data.notes)
    household.updated_at = now
    if phone:
        if data.consent_store_phone:
            grant_purpose(household, Purpose.STORE_PHONE, actor, now, "in_person")
        if data.consent_sms:
            grant_purpose(household, Purpose.RECEIVE_SMS, actor, now, "in_person")
    else:
        withdraw_purpose(household, Purpose.STORE_PHONE, actor, now)
    db.session.flush()
    if moved:
        # Whoever had it checked out may not see it in its new village: the leader reassigns it.
        household_moved.send(household, now=now)
    return household
