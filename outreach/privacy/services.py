"""People's requests about their data as cases with deadlines, restriction in effect, and breaches.
Every read goes through ``outreach.auth.scope``: a case belongs to its commune, a breach to the unit that
recorded it, and a user sees those of their subtree."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import get_household, households_in_scope, require_role, unit_in_scope
from outreach.clock import in_moment_range
from outreach.errors import Forbidden, NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level
from outreach.geo.services import erase_household
from outreach.planning.models import Assignment
from outreach.privacy.models import CHANNELS, Breach, CaseStatus, Right, RightsCase
from outreach.sms.models import InboundSms, SmsMessage, Status
from outreach.sms.signals import deletion_asked
from outreach.text import clean, fold
from outreach.types import MAX_INTEGER

# Rights whose request stops the processing at once (the data is kept, hidden, until answered).
STOPPING = (Right.RESTRICT, Right.OBJECT)
MAX_TEXT = 2000


def deadline_hours(kind: str) -> int:
    """Hours to answer a request of this kind (``RIGHTS_DEADLINE_HOURS``; 72 unless set)."""
    return int(current_app.config["RIGHTS_DEADLINE_HOURS"].get(kind, 72))


def _commune_of(unit: AdminUnit | None) -> AdminUnit | None:
    while unit is not None and unit.level != Level.COMMUNE:
        unit = unit.parent
    return unit


# --- rights cases ----------------------------------------------------------------------------


@dataclass
class CaseInput:
    kind: str
    requester: str
    channel: str = "in_person"
    details: str = ""
    household_id: int | None = None
    received_at: datetime | None = None  # when the request came in; now if not given


def open_case(actor: User, data: CaseInput, *, now: datetime) -> RightsCase:
    """Record a person's request, with its deadline. A restriction or an objection takes effect at once:
    no SMS, no new visits or assignments, and the household hidden from lists (its data kept)."""
    require_role(actor, Role.LEADER)
    errors: dict[str, list[str]] = {}
    if data.kind not in set(Right):
        errors["kind"] = [_("Choose what the person asks for.")]
    requester = clean(data.requester)
    if not requester:
        errors["requester"] = [_("Enter who made the request.")]
    elif len(requester) > 120:
        errors["requester"] = [_("The name is too long (at most 120 characters).")]
    if data.channel not in CHANNELS:
        errors["channel"] = [_("Choose how the request came in.")]
    if len(data.details or "") > MAX_TEXT:
        errors["details"] = [_("At most %(n)s characters.", n=MAX_TEXT)]
    received = data.received_at or now
    if not in_moment_range(received, now, ahead=timedelta(0)):
        errors["received_at"] = [_("The request cannot have come in after today or before 2015.")]
    household = None
    if data.household_id:
        try:
            household = get_household(actor, data.household_id, include_restricted=True)
        except NotFound:
            errors["household_id"] = [_("No such household in your area.")]
    commune = _commune_of(household.village if household is not None else actor.scope_unit)
    if commune is None and "household_id" not in errors:
        errors["household_id"] = [_("Choose the household the request is about.")]
    if errors:
        raise ValidationError(errors)
    assert commune is not None
    case = RightsCase(
        unit_id=commune.id,
        household_id=household.id if household is not None else None,
        kind=data.kind,
        requester=requester,
        channel=data.channel,
        details=clean(data.details or ""),
        received_at=received,
        due_at=received + timedelta(hours=deadline_hours(data.kind)),
        status=CaseStatus.OPEN,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(case)
    db.session.flush()
    if household is not None and data.kind in STOPPING:
        restrict_household(household, now=now)
    record_event(actor, "privacy.case_open", target=case, detail={"kind": data.kind}, now=now)
    db.session.flush()
    return case


@deletion_asked.connect
def open_case_from_reply(reply: InboundSms, *, household: Household, now: datetime) -> RightsCase | None:
    """A resident replied XOA ("delete") by SMS: a deletion request of their household, from now, for the
    commune's leader to answer (an SMS alone does not erase: the leader checks who asked)."""
    commune = _commune_of(household.village)
    if commune is None:
        return None
    case = RightsCase(
        unit_id=commune.id,
        household_id=household.id,
        kind=Right.DELETE,
        requester=_("Reply by SMS from the household's number"),
        channel="sms",
        details=reply.body[:MAX_TEXT],
        received_at=now,
        due_at=now + timedelta(hours=deadline_hours(Right.DELETE)),
        status=CaseStatus.OPEN,
        created_at=now,
    )
    db.session.add(case)
    db.session.flush()
    record_event(None, "privacy.case_open", target=case, detail={"kind": Right.DELETE, "via": "sms"}, now=now)
    return case


def restrict_household(household: Household, *, now: datetime) -> None:
    """Stop processing a household's data: hidden from lists, its waiting SMS cancelled, its open
    assignments taken back. Nothing is deleted."""
    if household.restricted_at is None:
        household.restricted_at = now
    db.session.execute(
        sa.update(SmsMessage)
        .where(SmsMessage.household_id == household.id, SmsMessage.status == Status.QUEUED)
        .values(status=Status.CANCELLED, error_message="restricted", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(Assignment)
        .where(Assignment.household_id == household.id, Assignment.released_at.is_(None))
        .values(released_at=now, released_reason="cancelled")
        .execution_options(synchronize_session=False)
    )


def lift_restriction(household: Household) -> None:
    household.restricted_at = None


def confirm_stop(actor: User, case_id: int, *, now: datetime) -> RightsCase:
    """A restriction or an objection sent on the public form stops nothing until the leader has confirmed
    it is the person (a call to the number they gave): then it takes effect, as a leader's own case does."""
    require_role(actor, Role.LEADER)
    case = get_case(actor, case_id)
    household = case.household
    if case.status != CaseStatus.OPEN or case.kind not in STOPPING:
        raise ValidationError({"": [_("Only an open restriction or objection stops the processing.")]})
    if household is None or household.erased_at is not None:
        raise ValidationError({"": [_("The request has no household: record the request from the household's page.")]})
    if household.restricted_at is None:
        restrict_household(household, now=now)
        record_event(actor, "privacy.case_stop", target=case, detail={"kind": case.kind}, now=now)
    db.session.flush()
    return case


def matching_households(actor: User, case: RightsCase) -> list[Household]:
    """Households of the case's commune with the phone the person gave, or the head's name they gave:
    for a case sent on the public form that no household matched at once (two with the number, or none)."""
    if case.household_id is not None and case.household is not None and case.household.erased_at is None:
        return []
    conditions = []
    if case.phone:
        conditions.append(Household.phone == case.phone)
    if clean(case.requester):
        conditions.append(Household.head_name_folded == fold(case.requester))
    if not conditions:
        return []
    stmt = (
        households_in_scope(actor, include_restricted=True)
        .where(AdminUnit.parent_id == case.unit_id, sa.or_(*conditions))
        .order_by(Household.head_name_folded, Household.id)
        .limit(10)
    )
    return list(db.session.scalars(stmt))


def link_household(actor: User, case_id: int, household_id: int, *, now: datetime) -> RightsCase:
    """The case is this household's: one of the case's commune that the leader may see. Then a
    restriction or objection can be confirmed, an access answered with the household's export."""
    require_role(actor, Role.LEADER)
    case = get_case(actor, case_id)
    if case.status != CaseStatus.OPEN:
        raise ValidationError({"": [_("This request is already answered.")]})
    # A code mistyped, or of a household elsewhere: said on the case's page, never whether it exists.
    unknown = ValidationError({"household_id": [_("No household of %(unit)s has this code.", unit=case.unit.name)]})
    if not 1 <= household_id <= MAX_INTEGER:
        raise unknown
    try:
        household = get_household(actor, household_id, include_restricted=True)
    except NotFound:
        raise unknown from None
    if household.village.parent_id != case.unit_id:
        raise unknown
    if case.household_id != household.id:
        case.household_id = household.id
        record_event(actor, "privacy.case_household", target=case, detail={"household": household.id}, now=now)
        db.session.flush()
    return case


def close_case(actor: User, case_id: int, *, status: str, action_taken: str, answer: str, now: datetime) -> RightsCase:
    """Answer a request: what was done, and the answer sent to the person. A deletion done erases the
    household (an anonymous count stays); a restriction or objection refused lifts the stop."""
    require_role(actor, Role.LEADER)
    case = get_case(actor, case_id)
    errors: dict[str, list[str]] = {}
    if case.status != CaseStatus.OPEN:
        errors[""] = [_("This request is already answered.")]
    if status not in (CaseStatus.DONE, CaseStatus.REFUSED):
        errors["status"] = [_("Choose whether the request was met or refused.")]
    if not clean(answer):
        errors["answer"] = [_("Write the answer sent to the person.")]
    for name, text in (("action_taken", action_taken), ("answer", answer)):
        if len(text or "") > MAX_TEXT:
            errors[name] = [_("At most %(n)s characters.", n=MAX_TEXT)]
    if errors:
        raise ValidationError(errors)
    household = case.household
    if household is not None and household.erased_at is None:
        if case.kind == Right.DELETE and status == CaseStatus.DONE:
            erase_household(actor, household.id, now=now)
        elif case.kind in STOPPING and status == CaseStatus.REFUSED:
            lift_restriction(household)
        elif case.kind in STOPPING and status == CaseStatus.DONE:
            restrict_household(household, now=now)  # a resident's form: the stop starts once it is met
    case.status, case.action_taken, case.answer = status, clean(action_taken or ""), clean(answer)
    case.closed_at, case.closed_by_id = now, actor.id
    late = now > case.due_at
    record_event(actor, "privacy.case_close", target=case, detail={"status": status, "late": late}, now=now)
    db.session.flush()
    return case


def cases_in_scope(actor: User) -> sa.Select:
    """Rights cases of the communes in the actor's subtree (members: none)."""
    if actor.role == Role.MEMBER:
        raise Forbidden(actor.role)
    return sa.select(RightsCase).join(AdminUnit, AdminUnit.id == RightsCase.unit_id).where(unit_in_scope(actor))


def get_case(actor: User, case_id: int) -> RightsCase:
    case = db.session.scalar(cases_in_scope(actor).where(RightsCase.id == case_id))
    if case is None:
        raise NotFound(case_id)
    return case


def list_cases(
    actor: User, *, now: datetime, status: str = "", household_id: int | None = None, limit: int = 200
) -> list[RightsCase]:
    """Cases newest first; ``status`` "overdue" for the open ones past their deadline."""
    stmt = cases_in_scope(actor)
    if status == "overdue":
        stmt = stmt.where(RightsCase.status == CaseStatus.OPEN, RightsCase.due_at < now)
    elif status in set(CaseStatus):
        stmt = stmt.where(RightsCase.status == status)
    if household_id is not None:
        stmt = stmt.where(RightsCase.household_id == household_id)
    return list(db.session.scalars(stmt.order_by(RightsCase.due_at.desc(), RightsCase.id.desc()).limit(limit)))


def overdue_count(actor: User, *, now: datetime) -> int:
    """Open requests past their deadline, in the actor's subtree (for the start page)."""
    if actor.role == Role.MEMBER:
        return 0
    stmt = cases_in_scope(actor).where(RightsCase.status == CaseStatus.OPEN, RightsCase.due_at < now)
    return db.session.scalar(stmt.with_only_columns(sa.func.count(RightsCase.id))) or 0


def due_soon_count(actor: User, *, now: datetime, within: timedelta = timedelta(hours=24)) -> int:
    if actor.role == Role.MEMBER:
        return 0
    stmt = cases_in_scope(actor).where(
        RightsCase.status == CaseStatus.OPEN, RightsCase.due_at >= now, RightsCase.due_at < now + within
    )
    return db.session.scalar(stmt.with_only_columns(sa.func.count(RightsCase.id))) or 0


# --- breaches --------------------------------------------------------------------------------


@dataclass
class BreachInput:
    what: str
    found_at: datetime | None
    people: int | None
    data_kinds: str = ""
    actions: str = ""


def record_breach(actor: User, data: BreachInput, *, now: datetime) -> Breach:
    """Record an incident; the deadline to notify runs from when it was found (``BREACH_NOTIFY_HOURS``)."""
    require_role(actor, Role.LEADER, Role.STAFF)
    errors: dict[str, list[str]] = {}
    if not clean(data.what):
        errors["what"] = [_("Say what happened.")]
    for name in ("what", "data_kinds", "actions"):
        if len(getattr(data, name) or "") > MAX_TEXT:
            errors[name] = [_("At most %(n)s characters.", n=MAX_TEXT)]
    if data.found_at is None or not in_moment_range(data.found_at, now, ahead=timedelta(0)):
        errors["found_at"] = [_("When it was found: a moment from 2015 until now.")]
    if data.people is None or not (0 <= data.people <= 100_000_000):
        errors["people"] = [_("How many people: a whole number, 0 if not known yet.")]
    unit = actor.scope_unit
    if unit is None:
        errors[""] = [_("Only a user of a commune or a province records a breach.")]
    if errors:
        raise ValidationError(errors)
    assert data.found_at is not None and data.people is not None and unit is not None
    breach = Breach(
        unit_id=unit.id,
        what=clean(data.what),
        data_kinds=clean(data.data_kinds),
        found_at=data.found_at,
        people=data.people,
        actions=clean(data.actions),
        notify_due_at=data.found_at + timedelta(hours=int(current_app.config["BREACH_NOTIFY_HOURS"])),
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(breach)
    db.session.flush()
    record_event(actor, "privacy.breach", target=breach, detail={"people": data.people}, now=now)
    return breach


def breaches_in_scope(actor: User) -> sa.Select:
    if actor.role == Role.MEMBER:
        raise Forbidden(actor.role)
    return (
        sa.select(Breach)
        .join(AdminUnit, AdminUnit.id == Breach.unit_id)
        .where(unit_in_scope(actor))
        .order_by(Breach.found_at.desc(), Breach.id.desc())
    )


def get_breach(actor: User, breach_id: int) -> Breach:
    breach = db.session.scalar(breaches_in_scope(actor).where(Breach.id == breach_id))
    if breach is None:
        raise NotFound(breach_id)
    return breach


def mark_notified(actor: User, breach_id: int, *, now: datetime) -> Breach:
    require_role(actor, Role.LEADER, Role.STAFF)
    breach = get_breach(actor, breach_id)
    if breach.notified_at is None:
        breach.notified_at = now
        record_event(actor, "privacy.breach_notified", target=breach, now=now)
    db.session.flush()
    return breach


def notification_text(breach: Breach) -> str:
    """The notification to the authority, in Vietnamese (an official letter), from what was recorded."""
    from outreach.clock import local_zone

    found = breach.found_at.astimezone(local_zone())
    with force_locale("vi"):
        lines = [
            _("NOTIFICATION OF A PERSONAL DATA BREACH"),
            _("To: %(authority)s", authority=current_app.config["PRIVACY_AUTHORITY"]),
            _("From: %(unit)s", unit=breach.unit.name),
            "",
            _("1. What happened: %(what)s", what=breach.what),
            _("2. When it was found: %(when)s", when=f"{found:%H:%M %d/%m/%Y}"),
            _("3. Personal data concerned: %(kinds)s", kinds=breach.data_kinds or _("being assessed")),
            _("4. Number of people concerned (estimate): %(n)s", n=breach.people),
            _("5. What was done to limit the harm: %(actions)s", actions=breach.actions or _("being assessed")),
            _(
                "6. Contact: the commune's person in charge of personal data protection, %(who)s.",
                who=(breach.created_by.full_name or breach.created_by.username) if breach.created_by else "…",
            ),
            "",
            _(
                "This notification is sent within %(hours)s hours of the breach being found, as the law requires.",
                hours=current_app.config["BREACH_NOTIFY_HOURS"],
            ),
        ]
    return "\n".join(lines)
