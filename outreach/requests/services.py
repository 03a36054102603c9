"""Residents asking for help, and help at the desk. Scope only through ``outreach.auth.scope``;
services take ``actor`` and ``now`` and flush, the request or command commits.

The loop: a resident asks (the public form, a leaflet's QR code, or an SMS reply "GIUP"); the
commune's leader matches the request to a household (or makes one, the resident's consent carried),
assigns it to a member for a day like any household, and the resident gets an SMS saying who will
come; the member's visit closes the request (``visits_stored``)."""

import secrets
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import get_household, households_in_scope, require_role, unit_in_scope
from outreach.clock import YEAR_AHEAD, day_end, day_start, in_day_range, local_today
from outreach.errors import Forbidden, NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Consent, Household, Level, Purpose
from outreach.geo.phone import PhoneError, normalize_phone
from outreach.geo.services import HouseholdInput, create_household
from outreach.planning.models import Assignment
from outreach.planning.services import assign_households, members_of
from outreach.requests.models import (
    NEEDS,
    OPEN_STATUSES,
    REQUEST_STATUSES,
    TIMES,
    DeskHelp,
    HelpRequest,
    RequestStatus,
)
from outreach.sms.models import InboundSms, SmsMessage, Status
from outreach.sms.segments import count_segments
from outreach.sms.services import commune_of, invalid_numbers, new_token, opted_out_numbers, schedule
from outreach.text import clean, fold
from outreach.types import MAX_INTEGER
from outreach.visits.models import HELP_FACTS, Obstacle, VisitRecord
from outreach.visits.signals import StoredVisit

SAME_REQUEST_DAYS = 7  # the same phone asking again within a week adds to its open request
QUIET_ASK = timedelta(hours=1)  # per phone: asks closer together than this change nothing
CONSENT_VERSION = "help-2026-11"
# The words the resident ticks on the form, stored word for word with the request.
FORM_CONSENT_TEXT = (
    "Tôi đồng ý để Tổ công nghệ số cộng đồng lưu tên và số điện thoại tôi vừa nhập, và gọi điện hoặc "
    "nhắn tin cho tôi để hẹn đến hướng dẫn. Tôi có thể yêu cầu xoá các thông tin này bất cứ lúc nào."
)
# An SMS reply is the resident's own message from their number: what they wrote is the record.
SMS_CONSENT_PREFIX = "Người dân nhắn lại từ số của mình để xin người đến hướng dẫn: "
ACK_TEXT = (
    "To cong nghe so cong dong da nhan yeu cau ho tro cua ban va se lien he de hen ngay den. "
    "Nhan TU CHOI de ngung nhan tin."
)
TIME_WORDS = {"morning": "buổi sáng", "afternoon": "buổi chiều", "evening": "buổi tối", "weekend": "cuối tuần", "": ""}
NOTICE_TEMPLATE = (
    "Tổ công nghệ số: thành viên {member} sẽ đến hướng dẫn gia đình {when}ngày {date}. Nhắn TU CHOI để ngừng nhận tin."
)


# --- the public side -------------------------------------------------------------------------


def unit_by_code(code: str | None) -> AdminUnit | None:
    """The commune or village a leaflet's QR code names (``?unit=02216`` or ``?unit=2025:02216``);
    today's units first when a code means one in each dataset."""
    text = clean(code)[:40]
    if not text:
        return None
    dataset, _sep, bare = text.rpartition(":")
    stmt = sa.select(AdminUnit).where(AdminUnit.code == bare, AdminUnit.level.in_((Level.COMMUNE, Level.VILLAGE)))
    if dataset:
        stmt = stmt.where(AdminUnit.dataset == dataset)
    return db.session.scalars(stmt.order_by(AdminUnit.dataset)).first()  # "2025" < "legacy"


def find_communes(query: str, *, limit: int = 20) -> list[AdminUnit]:
    """Communes whose name starts (any word) with what the resident typed, to choose from."""
    words = fold(query).split()[:4]
    if not words or len("".join(words)) < 2:
        return []
    stmt = sa.select(AdminUnit).where(AdminUnit.level == Level.COMMUNE)
    for word in words:
        stmt = stmt.where(AdminUnit.name_folded.contains(word, autoescape=True))
    return list(db.session.scalars(stmt.order_by(AdminUnit.dataset, AdminUnit.sort_key).limit(limit)))


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
    message = _queue(request, ACK_TEXT, now=now, actor=None)
    request.ack_message_id = message.id if message else None
    db.session.flush()
    return ""


def _queue(request: HelpRequest, body: str, *, now: datetime, actor: User | None) -> SmsMessage | None:
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


# --- the leaders' side -----------------------------------------------------------------------


def requests_in_scope(actor: User) -> sa.Select:
    """Requests of the communes in the actor's area (leaders and admins; staff see counts only)."""
    if actor.role == Role.STAFF:
        raise Forbidden("staff see counts, not requests")
    require_role(actor, Role.LEADER)
    return (
        sa.select(HelpRequest)
        .join(AdminUnit, HelpRequest.commune_id == AdminUnit.id)
        .where(unit_in_scope(actor), HelpRequest.erased_at.is_(None))
    )


def request_list(actor: User, *, status: str | None, limit: int = 200) -> dict:
    base = requests_in_scope(actor)
    counts = dict(
        db.session.execute(
            base.with_only_columns(HelpRequest.status, sa.func.count(HelpRequest.id)).group_by(HelpRequest.status)
        ).all()
    )
    rows = base.order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc()).limit(limit)
    rows = rows.where(HelpRequest.status == status) if status else rows.where(HelpRequest.status.in_(OPEN_STATUSES))
    return {"counts": counts, "rows": list(db.session.scalars(rows))}


def new_requests(actor: User) -> int:
    """How many requests of the actor's area nobody has been given yet."""
    return (
        db.session.scalar(
            requests_in_scope(actor)
            .where(HelpRequest.status == RequestStatus.NEW)
            .with_only_columns(sa.func.count(HelpRequest.id))
        )
        or 0
    )


def get_request(actor: User, request_id: int) -> HelpRequest:
    request = db.session.scalar(requests_in_scope(actor).where(HelpRequest.id == request_id))
    if request is None:
        raise NotFound(request_id)
    return request


def matching_households(actor: User, request: HelpRequest) -> list[Household]:
    """Households in the leader's area with the request's phone (or, in its village, its name)."""
    if request.household_id is not None:
        return []
    conditions = []
    if request.phone:
        conditions.append(Household.phone == request.phone)
    if request.village_id and request.name:
        conditions.append(
            sa.and_(Household.village_id == request.village_id, Household.head_name_folded == fold(request.name))
        )
    if not conditions:
        return []
    return list(db.session.scalars(households_in_scope(actor).where(sa.or_(*conditions)).limit(10)))


def _audit(actor: User, action: str, request: HelpRequest, now: datetime, **detail) -> None:
    record_event(actor, action, target=request, detail={k: v for k, v in detail.items() if v is not None}, now=now)


def set_status(actor: User, request_id: int, status: str, *, now: datetime) -> HelpRequest:
    """A leader marks a request done, cannot help, spam, or new again (the same status twice: nothing)."""
    request = get_request(actor, request_id)
    if status not in REQUEST_STATUSES or status == RequestStatus.ASSIGNED:
        raise ValidationError({"status": [_("Choose a status.")]})
    if request.status == status:
        return request
    before = request.status
    request.status = status
    request.updated_at = now
    request.closed_at = None if status == RequestStatus.NEW else now
    _audit(actor, "request.status", request, now, status=status, previous=before)
    db.session.flush()
    return request


def link_household(actor: User, request_id: int, household_id: int, *, now: datetime) -> HelpRequest:
    """The request is this household's (one the leader may see)."""
    request = get_request(actor, request_id)
    if not 1 <= household_id <= MAX_INTEGER:
        raise NotFound(household_id)
    household = get_household(actor, household_id)
    if request.household_id == household.id:
        return request
    request.household_id = household.id
    request.village_id = household.village_id
    request.updated_at = now
    _audit(actor, "request.household", request, now, household=household.id)
    db.session.flush()
    return request


def household_from_request(actor: User, request_id: int, *, now: datetime) -> Household:
    """A new household made from the request: its name, village and phone, and the consent the
    resident gave with the request carried as it was given (by whom: the resident; when; the text)."""
    request = get_request(actor, request_id)
    if request.household is not None and request.household.erased_at is None:
        return request.household
    if request.village_id is None:
        raise ValidationError({"": [_("The request names no village: link it to a household instead.")]})
    household = create_household(
        actor, HouseholdInput(village_id=request.village_id, head_name=request.name or "—"), now=now,
        confirm_duplicate=True,
    )  # fmt: skip
    if request.phone:
        household.phone = request.phone
        household.consents.append(
            Consent(
                purpose=Purpose.STORE_PHONE, text_version=CONSENT_VERSION, text=request.consent_text,
                method=request.consent_channel or "help_form", collected_by_id=None,
                collected_at=request.consent_at or request.created_at,
            )
        )  # fmt: skip
    request.household_id = household.id
    request.updated_at = now
    _audit(actor, "request.household", request, now, household=household.id, created=1)
    db.session.flush()
    return household


def notice_text(member: User, due_on: date, preferred_time: str) -> str:
    when = TIME_WORDS.get(preferred_time, "")
    return NOTICE_TEMPLATE.format(
        member=clean(member.full_name or member.username), when=f"{when} " if when else "",
        date=due_on.strftime("%d/%m"),
    )  # fmt: skip


def assign_request(actor: User, request_id: int, member_id: int, *, due_on: date, now: datetime) -> HelpRequest:
    """Assign the request's household to a member for a day (the planning rules: scope, one member
    at a time), and tell the resident who will come. The same assignment twice changes nothing."""
    request = get_request(actor, request_id)
    if not request.is_open:
        raise ValidationError({"": [_("This request is closed: open it again first.")]})
    if request.household_id is None:
        raise ValidationError({"member_id": [_("First link the request to a household, or make one from it.")]})
    if not in_day_range(due_on, now, YEAR_AHEAD) or due_on < local_today(now):
        raise ValidationError({"due_on": [_("Choose a day from today on.")]})
    if not 1 <= member_id <= MAX_INTEGER:
        raise ValidationError({"member_id": [_("Choose an active team member of your commune.")]})
    same = request.status == RequestStatus.ASSIGNED and request.member_id == member_id and request.due_on == due_on
    result = assign_households(actor, member_id, [request.household_id], due_on=due_on, now=now, reassign=True)
    if not result.done:
        raise ValidationError({"member_id": [_("The household could not be assigned to this member.")]})
    if same:
        return request
    member = db.session.get(User, member_id)
    assert member is not None  # assign_households checked the member
    request.status, request.member_id, request.due_on = RequestStatus.ASSIGNED, member.id, due_on
    request.assignment_id = db.session.scalar(
        sa.select(Assignment.id).where(
            Assignment.household_id == request.household_id, Assignment.released_at.is_(None)
        )
    )
    request.updated_at = now
    message = _queue(request, notice_text(member, due_on, request.preferred_time), now=now, actor=actor)
    if message is not None:
        request.notice_message_id = message.id
    _audit(actor, "request.assign", request, now, member=member.id, day=due_on.isoformat())
    db.session.flush()
    return request


def members_for(actor: User, request: HelpRequest) -> list[User]:
    return members_of(actor, request.commune)


def erase_request(actor: User, request_id: int, *, now: datetime) -> None:
    """The resident asked for their data to go: the request keeps only what counts it."""
    request = get_request(actor, request_id)
    _scrub([request], now=now)
    _audit(actor, "request.erase", request, now)
    db.session.flush()


def _scrub(requests: list[HelpRequest], *, now: datetime) -> None:
    ids = [m for r in requests for m in (r.ack_message_id, r.notice_message_id) if m]
    if ids:
        db.session.execute(
            sa.update(SmsMessage)
            .where(SmsMessage.id.in_(ids))
            .values(to_phone="", body="", status=sa.case((SmsMessage.status == Status.QUEUED, Status.CANCELLED),
                                                        else_=SmsMessage.status))
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    for request in requests:
        request.name, request.phone = "", None
        request.note = request.form_token = ""
        request.erased_at = request.updated_at = now


def close_by_visits(actor: User, visits: list[StoredVisit], *, now: datetime) -> int:
    """A visit where someone was met closes the household's open requests ("done"). Returns how many."""
    met = {v.household_id: v for v in visits if v.outcome != "nobody_home"}
    if not met:
        return 0
    closed = 0
    for request in db.session.scalars(
        sa.select(HelpRequest).where(HelpRequest.household_id.in_(list(met)), HelpRequest.status.in_(OPEN_STATUSES))
    ):
        assert request.household_id is not None  # picked by its household
        visit = met[request.household_id]
        previous = request.status
        request.status, request.visit_id, request.closed_at = RequestStatus.DONE, visit.visit_id, now
        request.member_id = request.member_id or actor.id
        request.updated_at = now
        detail = {"status": RequestStatus.DONE.value, "previous": previous, "visit": visit.visit_id}
        record_event(actor, "request.status", target=request, detail=detail, now=now)
        closed += 1
    db.session.flush()
    return closed


# --- figures (the campaign page, the impact page; staff see these counts only) ---------------


@dataclass
class HelpFigures:
    received: int = 0
    answered: int = 0  # closed by a visit
    open: int = 0
    median_hours: float | None = None
    by_village: list[dict] = field(default_factory=list)
    by_member: list[dict] = field(default_factory=list)
    desk_records: int = 0
    desk_people: int = 0


def _median_hours(pairs: list[tuple[datetime, datetime]]) -> float | None:
    hours = [max((visit - asked).total_seconds() / 3600, 0) for asked, visit in pairs]
    return round(statistics.median(hours), 1) if hours else None


def help_figures(unit: AdminUnit, start: datetime | None = None, end: datetime | None = None) -> HelpFigures:
    """Requests received in a unit's subtree (and period), answered by a visit, the median time from
    request to visit, per village and per member; and help at the desk. Counts, no names of residents."""
    in_unit = AdminUnit.path.startswith(unit.path, autoescape=True)
    stmt = (
        sa.select(HelpRequest, VisitRecord.device_time, User)
        .join(AdminUnit, HelpRequest.commune_id == AdminUnit.id)
        .outerjoin(VisitRecord, VisitRecord.id == HelpRequest.visit_id)
        .outerjoin(User, User.id == HelpRequest.member_id)
        .where(in_unit, HelpRequest.status != RequestStatus.SPAM)
    )
    if start is not None:
        stmt = stmt.where(HelpRequest.created_at >= start)
    if end is not None:
        stmt = stmt.where(HelpRequest.created_at < end)
    figures = HelpFigures()
    villages: dict[int | None, dict] = {}
    members: dict[int, dict] = {}
    pairs: list[tuple[datetime, datetime]] = []
    names: dict[int | None, str] = {}
    for request, visited_at, member in db.session.execute(stmt):
        figures.received += 1
        figures.open += request.is_open
        village = villages.setdefault(request.village_id, {"received": 0, "answered": 0, "pairs": []})
        village["received"] += 1
        names.setdefault(request.village_id, request.village.name if request.village else "—")
        if member is not None:
            row = members.setdefault(
                member.id, {"name": member.full_name or member.username, "assigned": 0, "answered": 0, "pairs": []}
            )
            row["assigned"] += 1
        if visited_at is not None:
            figures.answered += 1
            village["answered"] += 1
            pair = (request.created_at, visited_at)
            pairs.append(pair)
            village["pairs"].append(pair)
            if member is not None:
                members[member.id]["answered"] += 1
                members[member.id]["pairs"].append(pair)
    figures.median_hours = _median_hours(pairs)
    figures.by_village = sorted(
        ({"name": names[k], "received": v["received"], "answered": v["answered"],
          "median_hours": _median_hours(v["pairs"])} for k, v in villages.items()),
        key=lambda r: fold(r["name"]),
    )  # fmt: skip
    figures.by_member = sorted(
        ({"name": v["name"], "assigned": v["assigned"], "answered": v["answered"],
          "median_hours": _median_hours(v["pairs"])} for v in members.values()),
        key=lambda r: fold(r["name"]),
    )  # fmt: skip
    desk = (
        sa.select(sa.func.count(DeskHelp.id), sa.func.coalesce(sa.func.sum(DeskHelp.people), 0))
        .join(AdminUnit, DeskHelp.commune_id == AdminUnit.id)
        .where(in_unit)
    )
    if start is not None:
        desk = desk.where(DeskHelp.helped_at >= start)
    if end is not None:
        desk = desk.where(DeskHelp.helped_at < end)
    figures.desk_records, figures.desk_people = db.session.execute(desk).one()
    return figures


def help_figures_between(unit: AdminUnit, first: date, last: date) -> HelpFigures:
    """The figures of requests made (and desk help given) from ``first`` to ``last``, local days."""
    return help_figures(unit, day_start(first), day_end(last))


# --- help at the desk ------------------------------------------------------------------------


@dataclass
class DeskInput:
    client_id: str
    people: int | None = 1
    done: list[str] = field(default_factory=list)
    obstacles: list[str] = field(default_factory=list)
    note: str = ""
    household_id: int | None = None


def desk_commune(actor: User) -> AdminUnit:
    """The commune whose desk the member or leader works at (their own)."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    unit = actor.scope_unit
    while unit is not None and unit.level != Level.COMMUNE:
        unit = unit.parent
    if unit is None:
        raise Forbidden("no commune")
    return unit


def record_desk_help(actor: User, data: DeskInput, *, now: datetime) -> DeskHelp:
    """Walk-in help at the one-stop desk. The same form sent twice is stored once."""
    commune = desk_commune(actor)
    client_id = clean(data.client_id)[:40]
    if client_id and (seen := db.session.scalar(sa.select(DeskHelp).where(DeskHelp.client_id == client_id))):
        return seen
    errors: dict[str, list[str]] = {}
    if not client_id:
        errors[""] = [_("The form expired: open it again.")]
    if data.people is None or not 1 <= data.people <= 50:
        errors["people"] = [_("How many people: a whole number from 1 to 50.")]
    if not data.done:
        errors["done"] = [_("Tick what was done.")]
    if set(data.done) - set(HELP_FACTS):
        errors["done"] = [_("Tick what was done.")]
    if set(data.obstacles) - {o.value for o in Obstacle}:
        errors["obstacles"] = [_("Unknown obstacle.")]
    if len(clean(data.note)) > 300:
        errors["note"] = [_("The note is too long (at most 300 characters).")]
    household = None
    if data.household_id is not None and not 1 <= data.household_id <= MAX_INTEGER:
        errors["household_id"] = [_("No such household in your area.")]
    elif data.household_id:
        try:
            household = get_household(actor, data.household_id)
        except NotFound:
            errors["household_id"] = [_("No such household in your area.")]
    if errors:
        raise ValidationError(errors)
    row = DeskHelp(
        client_id=client_id, commune_id=commune.id, member_id=actor.id,
        household_id=household.id if household else None, helped_at=now, people=data.people,
        done=sorted(set(data.done)), obstacles=sorted(set(data.obstacles)), note=clean(data.note), created_at=now,
    )  # fmt: skip
    try:
        with db.session.begin_nested():  # the same form sent twice at once: the other one stored it
            db.session.add(row)
    except IntegrityError:
        seen = db.session.scalar(sa.select(DeskHelp).where(DeskHelp.client_id == client_id))
        if seen is None:
            raise
        return seen
    return row


def desk_recent(actor: User, *, limit: int = 20) -> list[DeskHelp]:
    commune = desk_commune(actor)
    stmt = sa.select(DeskHelp).where(DeskHelp.commune_id == commune.id)
    if actor.role == Role.MEMBER:
        stmt = stmt.where(DeskHelp.member_id == actor.id)
    return list(db.session.scalars(stmt.order_by(DeskHelp.helped_at.desc()).limit(limit)))
