"""The leaders' side: their commune's requests, a household for each, assignment, status, erasure;
the visit that closes a request."""

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import get_household, households_in_scope, require_role, unit_in_scope
from outreach.bulk import any_of
from outreach.clock import YEAR_AHEAD, in_day_range, local_today, local_zone
from outreach.errors import Forbidden, NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Consent, Household, Purpose
from outreach.geo.services import HouseholdInput, create_household
from outreach.labels import TIME_LABELS
from outreach.planning.models import Assignment
from outreach.planning.services import assign_households, members_of
from outreach.requests.models import (
    OPEN_STATUSES,
    REQUEST_STATUSES,
    HelpRequest,
    RequestStatus,
)
from outreach.requests.services.asking import queue_sms
from outreach.requests.services.texts import CONSENT_VERSION, NOTICE_TEMPLATE, TIME_WORDS
from outreach.sms.models import SmsMessage, Status
from outreach.text import clean, fold
from outreach.types import MAX_INTEGER
from outreach.visits.signals import StoredVisit


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


def _audit(actor: User | None, action: str, request: HelpRequest, now: datetime, **detail) -> None:
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


# When a preferred time of day is over, local time (hour): the visit cannot be that day any more.
SLOT_ENDS = {"morning": 12, "afternoon": 17, "evening": 21}


def slot_passed(preferred_time: str, day: date, now: datetime) -> bool:
    """Whether ``day`` at the resident's preferred time of day is already past."""
    today = local_today(now)
    if day != today or preferred_time not in SLOT_ENDS:
        return day < today
    return now.astimezone(local_zone()).hour >= SLOT_ENDS[preferred_time]


def first_visit_day(request: HelpRequest, now: datetime) -> date:
    """The first day a member can still come at the resident's preferred time: today, or tomorrow
    once today's morning/afternoon/evening is over."""
    today = local_today(now)
    return today + timedelta(days=1) if slot_passed(request.preferred_time, today, now) else today


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
    if slot_passed(request.preferred_time, due_on, now):
        raise ValidationError(
            {"due_on": [_("Today's %(time)s is already over: choose a day from tomorrow on.",
                          time=TIME_LABELS[request.preferred_time])]}
        )  # fmt: skip
    if not 1 <= member_id <= MAX_INTEGER:
        raise ValidationError({"member_id": [_("Choose an active team member of your commune.")]})
    same = request.status == RequestStatus.ASSIGNED and request.member_id == member_id and request.due_on == due_on
    previous_assignment, request.assignment_id = request.assignment_id, None  # given anew here, not followed
    result = assign_households(actor, member_id, [request.household_id], due_on=due_on, now=now, reassign=True)
    if not result.done:
        raise ValidationError({"member_id": [_("The household could not be assigned to this member.")]})
    if same:
        request.assignment_id = previous_assignment
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
    message = queue_sms(request, notice_text(member, due_on, request.preferred_time), now=now, actor=actor)
    if message is not None:
        request.notice_message_id = message.id
    _audit(actor, "request.assign", request, now, member=member.id, day=due_on.isoformat())
    db.session.flush()
    return request


def on_assignments_released(actor: User | None, *, assignment_ids: list[int], reason: str, now: datetime) -> None:
    """Assignments ended without a visit (planning tells). A request assigned through one of them goes
    back to the leader's list as new when nobody has the household now (taken back, or out of the
    member's area): the leader assigns it again, and the resident is told then. When another member was
    given the household, the request follows that member and day."""
    requests = db.session.scalars(
        sa.select(HelpRequest).where(
            any_of(HelpRequest.assignment_id, assignment_ids), HelpRequest.status == RequestStatus.ASSIGNED
        )
    )
    for request in list(requests):
        current = None
        if reason == "reassigned":
            current = db.session.scalar(
                sa.select(Assignment).where(
                    Assignment.household_id == request.household_id, Assignment.released_at.is_(None)
                )
            )
        request.updated_at = now
        if current is not None:
            request.member_id, request.due_on, request.assignment_id = current.member_id, current.due_on, current.id
            _audit(actor, "request.assign", request, now, member=current.member_id, day=current.due_on.isoformat())
            continue
        request.status, request.member_id, request.due_on, request.assignment_id = RequestStatus.NEW, None, None, None
        _audit(actor, "request.status", request, now, status=RequestStatus.NEW.value, previous="assigned", why=reason)
    db.session.flush()


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


def asked_for_help(household_ids: list[int]) -> dict[int, str]:
    """The households among these that asked for help themselves (an open request), with the time they
    prefer: the member's Today (visits, below) shows it through the template global ``asked_for_help``."""
    if not household_ids:
        return {}
    rows = db.session.execute(
        sa.select(HelpRequest.household_id, HelpRequest.preferred_time)
        .where(HelpRequest.household_id.in_(household_ids), HelpRequest.status.in_(OPEN_STATUSES))
        .order_by(HelpRequest.id)
    )
    return {household_id: preferred for household_id, preferred in rows if household_id is not None}


# --- a resident's export and erasure (geo asks through outreach.geo.signals) -----------------


def requests_of_household(household: Household) -> list[HelpRequest]:
    """The requests for help this household made: linked to it, or from its phone number in its commune."""
    who = [HelpRequest.household_id == household.id]
    if household.phone:
        who.append(sa.and_(HelpRequest.phone == household.phone, HelpRequest.commune_id == household.village.parent_id))
    return list(
        db.session.scalars(
            sa.select(HelpRequest).where(sa.or_(*who), HelpRequest.erased_at.is_(None)).order_by(HelpRequest.id)
        )
    )


def export_help_requests(household: Household, *, now: datetime) -> dict:
    """The household's section of its export: its requests for help, as it made them."""
    return {
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
            for r in requests_of_household(household)
        ]
    }


def erase_help_requests(household: Household, *, actor: User, now: datetime) -> None:
    """A resident's erasure: their requests for help name them and hold the number (and so do the SMS
    they led to): only what counts them stays."""
    _scrub(requests_of_household(household), now=now)


def close_by_visits(actor: User, visits: list[StoredVisit], *, now: datetime) -> int:
    """A visit where someone was met closes the household's open requests ("done"). Returns how many."""
    met = {v.household_id: v for v in visits if v.outcome != "nobody_home"}
    if not met:
        return 0
    closed = 0
    for request in db.session.scalars(
        sa.select(HelpRequest).where(any_of(HelpRequest.household_id, met), HelpRequest.status.in_(OPEN_STATUSES))
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
