"""A resident asks about their own personal data, on the public form a guide page or a leaflet leads to:
a rights case of the commune, with its deadline, for the commune's leader to answer. Built the way the
"I need someone to come and help" form is (outreach/requests): no login, no cookie, no script; the unit
from the leaflet's QR code or a search; a hidden field against robots; limits per address and per phone;
a form sent twice stored once; and an answer that never tells whether the number is known."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from outreach.audit.services import record_event
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level
from outreach.geo.phone import PhoneError, normalize_phone
from outreach.privacy.models import CaseStatus, Right, RightsCase
from outreach.privacy.services import deadline_hours
from outreach.requests.services import commune_and_villages, find_communes, new_form_token, unit_by_code
from outreach.text import clean
from outreach.visits.checks import looks_secret

__all__ = ["AskInput", "FORM_CONSENT_TEXT", "ask", "commune_of", "find_communes", "new_form_token", "unit_by_code"]

# The words the resident ticks, stored word for word with the case (Vietnamese: as they read them).
FORM_CONSENT_TEXT = (
    "Tôi đồng ý để Uỷ ban nhân dân xã, phường nơi tôi ở và Tổ công nghệ số cộng đồng lưu tên, số điện thoại "
    "và yêu cầu tôi vừa nhập, và gọi điện hoặc nhắn tin cho tôi về yêu cầu này (kể cả để xác nhận đúng là tôi)."
)
QUIET = timedelta(hours=1)  # per phone: a second form within the hour adds nothing
MAX_DETAILS = 1000


def commune_of(unit: AdminUnit) -> AdminUnit:
    """The commune a leaflet's unit (a commune or one of its villages) names."""
    return commune_and_villages(unit)[0] if unit.level == Level.VILLAGE else unit


@dataclass
class AskInput:
    commune_id: int
    name: str
    phone: str
    kind: str
    details: str = ""
    consent: bool = False
    token: str = ""


def _check(data: AskInput) -> tuple[dict[str, list[str]], str | None, AdminUnit | None]:
    errors: dict[str, list[str]] = {}
    name, phone = clean(data.name), None
    if not name:
        errors["name"] = [_("Write your name.")]
    elif len(name) > 120:
        errors["name"] = [_("The name is too long (at most 120 characters).")]
    try:
        phone = normalize_phone(data.phone)
    except PhoneError as exc:
        errors["phone"] = [str(exc.args[0])]
    if phone is None and "phone" not in errors:
        errors["phone"] = [_("Write your phone number: the commune calls you to confirm it is you.")]
    commune = db.session.scalar(
        sa.select(AdminUnit).where(AdminUnit.id == data.commune_id, AdminUnit.level == Level.COMMUNE)
    )
    if commune is None:
        errors["commune"] = [_("Choose your commune or ward.")]
    if data.kind not in set(Right):
        errors["kind"] = [_("Choose what you ask for.")]
    details = clean(data.details)
    if len(details) > MAX_DETAILS:
        errors["details"] = [_("At most %(n)s characters.", n=MAX_DETAILS)]
    elif details and looks_secret(details):
        errors["details"] = [_("Never write ID card numbers, passwords or OTP codes here.")]
    if not data.consent:
        errors["consent"] = [_("Tick the box to agree: without it the commune cannot keep your request or call you.")]
    return errors, phone, commune


def _household_of(phone: str, commune: AdminUnit) -> Household | None:
    """The household of the commune with this phone, when there is exactly one (else the leader links it)."""
    found = list(
        db.session.scalars(
            sa.select(Household)
            .join(AdminUnit, AdminUnit.id == Household.village_id)
            .where(Household.phone == phone, AdminUnit.parent_id == commune.id, Household.erased_at.is_(None))
            .limit(2)
        )
    )
    return found[0] if len(found) == 1 else None


def _recent_of(phone: str, kind: str, now: datetime) -> RightsCase | None:
    """This phone's case sent within the hour (any kind), or its open case of the same kind."""
    return db.session.scalars(
        sa.select(RightsCase)
        .where(
            RightsCase.phone == phone,
            sa.or_(
                RightsCase.received_at > now - QUIET,
                sa.and_(RightsCase.kind == kind, RightsCase.status == CaseStatus.OPEN),
            ),
        )
        .order_by(RightsCase.id.desc())
    ).first()


def ask(data: AskInput, *, now: datetime) -> RightsCase:
    """A resident's request about their data: a case of the commune from now, to its deadline. A form sent
    twice changes nothing; the same phone within the hour, or asking again for what it already asked and
    is not yet answered, adds nothing (new details are added to the open case). A restriction or an objection
    does not stop anything yet: the leader first confirms it is them (outreach.privacy.services.confirm_stop).
    The caller shows the same answer whatever happened."""
    errors, phone, commune = _check(data)
    if errors:
        raise ValidationError(errors)
    assert phone is not None and commune is not None  # else the errors above said so
    token = clean(data.token)[:40]
    if token and (seen := db.session.scalar(sa.select(RightsCase).where(RightsCase.form_token == token))):
        return seen
    details = clean(data.details)
    recent = _recent_of(phone, data.kind, now)
    if recent is not None:
        if recent.received_at > now - QUIET:
            return recent
        if details and details not in recent.details:
            recent.details = clean(f"{recent.details} · {details}" if recent.details else details)[:2000]
            db.session.flush()
        return recent
    household = _household_of(phone, commune)
    case = RightsCase(
        unit_id=commune.id, household_id=household.id if household is not None else None, kind=data.kind,
        requester=clean(data.name), phone=phone, channel="guide_page", details=details, received_at=now,
        due_at=now + timedelta(hours=deadline_hours(data.kind)), status=CaseStatus.OPEN,
        consent_text=FORM_CONSENT_TEXT, form_token=token, created_at=now,
    )  # fmt: skip
    try:
        with db.session.begin_nested():  # the same form sent twice at once: the other one stored it
            db.session.add(case)
    except IntegrityError:
        seen = db.session.scalar(sa.select(RightsCase).where(RightsCase.form_token == token))
        if seen is None:
            raise
        return seen
    record_event(None, "privacy.case_open", target=case, detail={"kind": data.kind, "via": "form"}, now=now)
    db.session.flush()
    return case
