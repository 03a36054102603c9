"""A resident asks: the public form (and its short list of villages), an SMS reply; the SMS a request leads to."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from outreach.auth.models import User
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level
from outreach.geo.phone import PhoneError, normalize_phone
from outreach.geo.services import find_communes_by_name
from outreach.requests.models import (
    NEEDS,
    OPEN_STATUSES,
    TIMES,
    HelpRequest,
    RequestStatus,
)
from outreach.requests.services.texts import (
    ACK_TEXT,
    FORM_CONSENT_TEXT,
    QUIET_ASK,
    SAME_REQUEST_DAYS,
    SMS_CONSENT_PREFIX,
)
from outreach.sms.models import InboundSms, SmsMessage, Status
from outreach.sms.segments import count_segments
from outreach.sms.services import commune_of, invalid_numbers, new_token, opted_out_numbers, schedule
from outreach.text import clean


def unit_by_code(code: str | None) -> AdminUnit | None:
    """The commune or village a leaflet's QR code names (``?unit=02215`` or ``?unit=2025:02215``);
    today's units first when a code means one in each dataset."""
    text = clean(code)[:40]
    if not text:
        return None
    dataset, _sep, bare = text.rpartition(":")
    stmt = sa.select(AdminUnit).where(AdminUnit.code == bare, AdminUnit.level.in_((Level.COMMUNE, Level.VILLAGE)))
    if dataset:
        stmt = stmt.where(AdminUnit.dataset == dataset)
    return db.session.scalars(stmt.order_by(AdminUnit.dataset)).first()  # "2025" < "legacy"


def find_communes(query: str, *, limit: int = 20) -> tuple[list[AdminUnit], dict[int, list[str]]]:
    """Communes whose name (or a former commune's name, before 1/7/2025) has words starting with
    what the resident typed, to choose from; and those former names by unit id."""
    return find_communes_by_name(query, limit=limit)


def commune_and_villages(unit: AdminUnit) -> tuple[AdminUnit, list[AdminUnit]]:
    """The commune of a commune or village, and its villages (the form's short list)."""
    commune = unit.parent_unit if unit.level == Level.VILLAGE else unit
    villages = list(
        db.session.scalars(
            sa.select(AdminUnit)
            .where(AdminUnit.parent_id == commune.id, AdminUnit.level == Level.VILLAGE)
            .order_by(AdminUnit.sort_key)
            .limit(500)
        )
    )
    return commune, villages


def new_form_token() -> str:
    return secrets.token_urlsafe(16)


@dataclass
class AskInput:
    name: str
    phone: str
    village_id: int | None
    need: str
    preferred_time: str = ""
    note: str = ""
    consent: bool = False
    token: str = ""
    source: str = "form"


def _check_ask(data: AskInput) -> tuple[dict[str, list[str]], str | None, AdminUnit | None]:
    errors: dict[str, list[str]] = {}
    name, phone, village = clean(data.name), None, None
    if not name:
        errors["name"] = [_("Write your name.")]
    elif len(name) > 120:
        errors["name"] = [_("The name is too long (at most 120 characters).")]
    try:
        phone = normalize_phone(data.phone)
    except PhoneError as exc:
        errors["phone"] = [str(exc.args[0])]
    if phone is None and "phone" not in errors:
        errors["phone"] = [_("Write your phone number: the team calls or texts you to agree on a day.")]
    if data.village_id:
        village = db.session.scalar(
            sa.select(AdminUnit).where(AdminUnit.id == data.village_id, AdminUnit.level == Level.VILLAGE)
        )
    if village is None:
        errors["village_id"] = [_("Choose your village.")]
    if data.need not in NEEDS:
        errors["need"] = [_("Choose what you need help with.")]
    if data.preferred_time not in (*TIMES, ""):
        errors["preferred_time"] = [_("Choose a time that suits you.")]
    if len(clean(data.note)) > 500:
        errors["note"] = [_("The note is too long (at most 500 characters).")]
    if not data.consent:
        errors["consent"] = [_("Tick the box to agree: without it the team cannot keep your number or call you.")]
    return errors, phone, village


def _open_request_of(phone: str | None, household_id: int | None, now: datetime) -> HelpRequest | None:
    """The open request of this phone (or household) made within a week, if any."""
    if phone is None and household_id is None:
        return None
    who = []
    if phone:
        who.append(HelpRequest.phone == phone)
    if household_id:
        who.append(HelpRequest.household_id == household_id)
    return db.session.scalars(
        sa.select(HelpRequest)
        .where(
            sa.or_(*who),
            HelpRequest.status.in_(OPEN_STATUSES),
            HelpRequest.created_at >= now - timedelta(days=SAME_REQUEST_DAYS),
            HelpRequest.erased_at.is_(None),
        )
        .order_by(HelpRequest.id.desc())
    ).first()


def ask(data: AskInput, *, now: datetime) -> HelpRequest:
    """A resident's request from the public form. The same form sent twice changes nothing; the
    same phone within a week adds to its open request; a phone asking again within the hour changes
    nothing. The caller shows the same answer whatever happened (never whether a number is known)."""
    errors, phone, village = _check_ask(data)
    if errors:
        raise ValidationError(errors)
    assert phone is not None and village is not None  # else the errors above said so
    token = clean(data.token)[:40]
    if token and (seen := db.session.scalar(sa.select(HelpRequest).where(HelpRequest.form_token == token))):
        return seen
    note = clean(data.note)[:500]
    existing = _open_request_of(phone, None, now)
    if existing is not None:
        if existing.last_asked_at > now - QUIET_ASK:
            return existing
        existing.asks += 1
        existing.last_asked_at = existing.updated_at = now
        existing.form_token = token
        if data.preferred_time:
            existing.preferred_time = data.preferred_time
        if note and note not in existing.note:
            existing.note = clean(f"{existing.note} · {note}" if existing.note else note)[:2000]
        db.session.flush()
        return existing
    request = HelpRequest(
        commune_id=village.parent_unit.id, village_id=village.id, name=clean(data.name), phone=phone,
        need=data.need, preferred_time=data.preferred_time, note=note, consent_text=FORM_CONSENT_TEXT,
        consent_at=now, consent_channel="help_form", source=data.source if data.source in ("form", "qr") else "form",
        status=RequestStatus.NEW, asks=1, last_asked_at=now, form_token=token, created_at=now, updated_at=now,
    )  # fmt: skip
    try:
        with db.session.begin_nested():  # the same form sent twice at once: the other one stored it
            db.session.add(request)
    except IntegrityError:
        seen = db.session.scalar(sa.select(HelpRequest).where(HelpRequest.form_token == token))
        if seen is None:
            raise
        return seen
    return request


def ask_by_sms(inbound: InboundSms, *, household: Household | None, now: datetime) -> str:
    """A reply GIUP / CAN GIUP / HO TRO from a resident's number. For a household we know: a request
    (or one more ask on its open one) and, the first time, one SMS through the outbox saying it was
    received. For a number we cannot place: no request, and the same words as the immediate answer."""
    if household is None or household.erased_at is not None:
        return ACK_TEXT
    commune = commune_of(household)
    existing = _open_request_of(inbound.from_phone, household.id, now)
    if existing is not None:
        existing.asks += 1
        existing.last_asked_at = existing.updated_at = now
        db.session.flush()
        return ""
    request = HelpRequest(
        commune_id=commune.id, village_id=household.village_id, household_id=household.id,
        name=household.head_name, phone=inbound.from_phone, need="other", preferred_time="",
        consent_text=SMS_CONSENT_PREFIX + f"«{inbound.body[:300]}»", consent_at=now, consent_channel="sms_reply",
        source="sms", status=RequestStatus.NEW, asks=1, last_asked_at=now, created_at=now, updated_at=now,
    )  # fmt: skip
    db.session.add(request)
    db.session.flush()
    message = queue_sms(request, ACK_TEXT, now=now, actor=None)
    request.ack_message_id = message.id if message else None
    db.session.flush()
    return ""


def queue_sms(request: HelpRequest, body: str, *, now: datetime, actor: User | None) -> SmsMessage | None:
    """One SMS about the request through the outbox: never to a number that opted out or that the
    network refused; after the quiet hours and within the commune's daily cap. The resident agreed
    to be contacted about the request, so it goes without the household's SMS-guides consent."""
    phone = request.phone
    if not phone or opted_out_numbers([phone]) or invalid_numbers([phone]):
        return None
    due = schedule(request.commune_id, 1, now=now)[0]
    counted = count_segments(body)
    message = SmsMessage(
        kind="request", commune_id=request.commune_id, household_id=None, to_phone=phone, body=body,
        encoding=counted.encoding, segments=counted.segments, token=new_token(), status=Status.QUEUED,
        due_at=due, created_at=now, updated_at=now, created_by_id=actor.id if actor else None,
    )  # fmt: skip
    db.session.add(message)
    db.session.flush()
    return message
