"""The outbox: queueing guide SMS, the dispatcher's steps (claim, send, back off) and the leaders' page."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.auth.scope import get_household, households_in_scope, require_role, unit_in_scope
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db, rowcount
from outreach.geo.models import AdminUnit, Household
from outreach.planning.services import FILTERS, pick_households
from outreach.sms.gateway import INVALID_NUMBER, OPTED_OUT_CODE, Gateway, GatewayError
from outreach.sms.models import DailySummary, InboundSms, SmsMessage, Status
from outreach.sms.segments import count_segments, without_diacritics
from outreach.sms.services.composing import check_template, compose, new_token, reminder_text
from outreach.sms.services.config import settings
from outreach.sms.services.guides import get_guide, guide_url
from outreach.sms.services.policy import (
    cancel_waiting,
    commune_of,
    hold_daily_caps,
    in_quiet_hours,
    invalid_numbers,
    next_send_time,
    opt_out,
    opt_out_of,
    opted_out_numbers,
    schedule,
    sms_blocker,
)
from outreach.visits.models import VisitRecord

# --- queueing --------------------------------------------------------------------------------


@dataclass
class SendPlan:
    """What a send would do (the preview), or did (after ``queue_guide_sms``)."""

    recipients: int = 0
    skipped: Counter = field(default_factory=Counter)
    segments: int = 0
    plain_segments: int = 0  # the same messages without diacritics
    encoding: str = "GSM-7"
    deferred: int = 0  # wait for the end of the quiet hours, or a later day (daily cap)
    first_due: datetime | None = None
    waits: list[tuple[datetime, int]] = field(default_factory=list)  # when the deferred ones go, and how many
    sample: str = ""
    messages: list[SmsMessage] = field(default_factory=list)

    @property
    def cost(self) -> float:
        return self.segments * settings()["SMS_PRICE_PER_SEGMENT"]

    @property
    def plain_saving(self) -> int:
        return self.segments - self.plain_segments


def queue_guide_sms(
    actor: User,
    household_ids: list[int],
    guide_id: int,
    template: str,
    *,
    now: datetime,
    plain: bool = False,
    visit_id: int | None = None,
    dry_run: bool = False,
    again: bool = False,
) -> SendPlan:
    """Queue one SMS with the guide's link per household that consented and did not opt out. Written
    in the caller's transaction (the outbox); the dispatcher sends them. ``dry_run``: the preview only."""
    require_role(actor, Role.LEADER, Role.MEMBER)
    try:
        guide = get_guide(guide_id, actor) if guide_id else None  # only a guide the actor may send
    except NotFound:
        guide = None
    errors = check_template(template)
    if guide is None:
        errors["guide_id"] = [_("Choose a guide.")]
    if not household_ids:
        errors[""] = [_("No household chosen.")]
    if errors or guide is None:
        raise ValidationError(errors)
    households = list(db.session.scalars(households_in_scope(actor).where(Household.id.in_(household_ids))))
    if len(households) != len(set(household_ids)):
        raise NotFound(sorted(set(household_ids) - {h.id for h in households})[0])
    if visit_id is not None:
        visit = db.session.get(VisitRecord, visit_id)
        if visit is None or visit.household_id not in set(household_ids):
            raise NotFound(visit_id)
    opted_out = opted_out_numbers([h.phone for h in households if h.phone])
    # Not twice: households that have this guide (waiting, sent or delivered) unless asked again, and
    # numbers the network already refused as invalid.
    had_it = (
        set()
        if again
        else set(
            db.session.scalars(
                sa.select(SmsMessage.household_id).where(
                    SmsMessage.household_id.in_([h.id for h in households]),
                    SmsMessage.guide_id == guide.id,
                    SmsMessage.status.in_(
                        [Status.QUEUED, Status.SENDING, Status.SENT, Status.DELIVERED, Status.NEEDS_CHECK]
                    ),
                )
            )
        )
    )
    invalid = invalid_numbers([h.phone for h in households if h.phone])
    plan = SendPlan()
    by_commune: dict[int, list[tuple[Household, str, str]]] = {}
    for household in households:
        reason = sms_blocker(household, opted_out)
        if reason is None and household.phone in invalid:
            reason = "invalid_number"
        if reason is None and household.id in had_it:
            reason = "already_sent"
        if reason:
            plan.skipped[reason] += 1
            continue
        token = new_token()
        body = compose(template, name=household.head_name, link=guide_url(guide, token), plain=plain)
        plain_count = count_segments(without_diacritics(body))
        counted = count_segments(body)
        plan.recipients += 1
        plan.segments += counted.segments
        plan.plain_segments += plain_count.segments
        if counted.encoding == "UCS-2":
            plan.encoding = "UCS-2"
        plan.sample = plan.sample or body
        by_commune.setdefault(commune_of(household).id, []).append((household, token, body))
    hold_daily_caps(by_commune)  # all at once, in order: another send may hold some of them
    waits: Counter = Counter()
    for commune_id, rows in sorted(by_commune.items()):
        times = schedule(commune_id, len(rows), now=now)
        for (household, token, body), due in zip(rows, times, strict=True):
            if due > now:
                plan.deferred += 1
                waits[due] += 1
            plan.first_due = min(plan.first_due or due, due)
            if dry_run:
                continue
            counted = count_segments(body)
            message = SmsMessage(
                kind="guide", commune_id=commune_id, household_id=household.id, visit_id=visit_id,
                guide_id=guide.id, to_phone=household.phone, body=body, encoding=counted.encoding,
                segments=counted.segments, token=token, status=Status.QUEUED, due_at=due,
                created_at=now, updated_at=now, created_by_id=actor.id,
            )  # fmt: skip
            db.session.add(message)
            plan.messages.append(message)
    plan.waits = sorted(waits.items())
    if not dry_run:
        db.session.flush()
    return plan


def household_messages(actor: User, household_id: int) -> list[SmsMessage]:
    household = get_household(actor, household_id)
    return list(
        db.session.scalars(
            sa.select(SmsMessage).where(SmsMessage.household_id == household.id).order_by(SmsMessage.id.desc())
        )
    )


def bulk_households(actor: User, *, village_id: int | None, which: str, today: date) -> list[Household]:
    """The households a leader's filter picks (the same filters as assignment)."""
    require_role(actor, Role.LEADER)
    if which not in FILTERS:
        raise ValidationError({"which": [_("Choose a filter.")]})
    return [h for h, _a, _v in pick_households(actor, village_id=village_id, which=which, today=today, limit=5000)]


# --- the dispatcher's steps ------------------------------------------------------------------


def claim_next(*, now: datetime) -> int | None:
    """Mark the next due message as being sent, just before its own request, and return its id
    (None: nothing is due, or it is the quiet hours). One at a time, so a dispatcher that dies leaves
    only the message really in flight to be checked. On PostgreSQL a row another dispatcher is
    claiming is skipped (``FOR UPDATE SKIP LOCKED``); on SQLite the one writer serializes."""
    if in_quiet_hours(now):
        return None
    due = (
        sa.select(SmsMessage.id)
        .where(SmsMessage.status == Status.QUEUED, SmsMessage.due_at <= now)
        .order_by(SmsMessage.due_at, SmsMessage.id)
        .limit(1)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # "id = (one row)", not "id IN (...)": PostgreSQL may run an IN subquery again for each row it
    # compares, claiming a row each time; a scalar subquery runs once.
    return db.session.scalar(
        sa.update(SmsMessage)
        .where(SmsMessage.id == due.scalar_subquery(), SmsMessage.status == Status.QUEUED)
        .values(status=Status.SENDING, claimed_at=now, attempts=SmsMessage.attempts + 1, updated_at=now)
        .returning(SmsMessage.id)
        .execution_options(synchronize_session=False)
    )


def mark_interrupted(*, now: datetime) -> int:
    """Messages claimed long ago and still "sending": the dispatcher stopped between claim and
    result, so they may or may not have gone out. A person checks them; none is resent."""
    stale = now - timedelta(seconds=settings()["SMS_STALE_CLAIM_S"])
    result = db.session.execute(
        sa.update(SmsMessage)
        .where(SmsMessage.status == Status.SENDING, SmsMessage.claimed_at < stale)
        .values(status=Status.NEEDS_CHECK, error_message="interrupted", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min ... at most an hour (``SMS_RETRY_BASE_S`` sets the first)."""
    return timedelta(seconds=min(settings()["SMS_RETRY_BASE_S"] * 2 ** max(attempts - 1, 0), 3600))


def _reminder_text_now(message: SmsMessage, now: datetime) -> str | None:
    """A reminder's text for a message going out at ``now`` (it may have waited past its day), or None
    when it is too late to send one."""
    visit = db.session.get(VisitRecord, message.visit_id) if message.visit_id else None
    if visit is None or visit.follow_up_on is None or message.household is None:
        return message.body
    return reminder_text(visit.follow_up_on, message.household.head_name, at=now)


def send_claimed(message: SmsMessage, gateway: Gateway, *, now: datetime) -> str:
    """Send one claimed message and record what happened; returns its new status. A reminder that
    waited past its day is reworded (never "today" for a day gone), or cancelled when more than a
    day late."""
    if message.status != Status.SENDING:
        return message.status
    household = message.household
    blocked = opt_out_of(message.to_phone) is not None
    if household is not None and (not household.may_receive_sms or household.phone != message.to_phone):
        blocked = True  # consent withdrawn, number changed or erased since it was queued
    text = _reminder_text_now(message, now) if message.kind == "reminder" and not blocked else message.body
    if blocked:
        message.status, message.error_message = Status.CANCELLED, "no_consent_or_opted_out"
    elif text is None:
        message.status, message.error_message = Status.CANCELLED, "too_late"
    else:
        if text != message.body:
            counted = count_segments(text)
            message.body, message.encoding, message.segments = text, counted.encoding, counted.segments
        try:
            result = gateway.send(message.to_phone, message.body)
        except GatewayError as exc:
            message.error_code, message.error_message = exc.code, exc.reason[:300]
            if exc.uncertain:
                message.status = Status.NEEDS_CHECK
            elif exc.retry and message.attempts < settings()["SMS_MAX_ATTEMPTS"]:
                message.status, message.due_at = Status.QUEUED, now + backoff(message.attempts)
            else:
                message.status = Status.FAILED
                if exc.code == OPTED_OUT_CODE:
                    opt_out(message.to_phone, source="carrier", keyword=str(exc.code), now=now)
                elif exc.code == INVALID_NUMBER:
                    cancel_waiting(message.to_phone, reason="invalid_number", now=now)
        else:
            message.status, message.sent_at = Status.SENT, now
            message.provider_sid, message.provider_status = result.provider_sid, result.provider_status
            message.error_code, message.error_message = None, ""
    message.updated_at = now
    db.session.flush()
    return message.status


# --- what leaders see ------------------------------------------------------------------------


def messages_in_scope(actor: User) -> sa.Select:
    require_role(actor, Role.LEADER)
    return sa.select(SmsMessage).join(AdminUnit, SmsMessage.commune_id == AdminUnit.id).where(unit_in_scope(actor))


ATTENTION = (Status.FAILED, Status.NEEDS_CHECK, Status.UNDELIVERED)


MESSAGES_PER_PAGE = 100


def outbox_page(actor: User, *, status: str | None, limit: int = MESSAGES_PER_PAGE, page: int = 1) -> dict:
    """Counts by status, the rows needing a person, recent rows and replies, for the leader's area."""
    base = messages_in_scope(actor)
    counts = dict(
        db.session.execute(
            base.with_only_columns(SmsMessage.status, sa.func.count(SmsMessage.id)).group_by(SmsMessage.status)
        ).all()
    )
    rows = base.order_by(SmsMessage.id.desc())
    if status:
        rows = rows.where(SmsMessage.status == status)
    messages = db.paginate(rows, page=page, per_page=limit, max_per_page=limit, error_out=False, count=True)
    attention = list(
        db.session.scalars(
            base.where(SmsMessage.status.in_(ATTENTION), SmsMessage.dismissed_at.is_(None))
            .order_by(SmsMessage.id.desc())
            .limit(limit)
        )
    )
    replies = list(
        db.session.scalars(
            sa.select(InboundSms)
            .outerjoin(AdminUnit, InboundSms.commune_id == AdminUnit.id)
            .where(unit_in_scope(actor) if actor.role != Role.ADMIN else sa.true())
            .order_by(InboundSms.received_at.desc())
            .limit(50)
        )
    )
    if actor.role != Role.ADMIN:
        replies = [r for r in replies if r.commune_id is not None]
    summaries = list(
        db.session.scalars(
            sa.select(DailySummary)
            .join(AdminUnit, DailySummary.commune_id == AdminUnit.id)
            .where(unit_in_scope(actor))
            .order_by(DailySummary.day.desc(), AdminUnit.sort_key)
            .limit(7 if actor.role == Role.LEADER else 20)
        )
    )
    return {"counts": counts, "messages": messages, "attention": attention,
            "replies": replies, "summaries": summaries}  # fmt: skip


def resolve_check(actor: User, message_id: int, *, action: str, now: datetime) -> SmsMessage:
    """A person's decision about a message on the attention list: it went out after all ("went_out",
    for one found mid-send), send it again ("again": not for a number that is invalid or opted out), or
    nothing more to do ("dismiss")."""
    message = db.session.scalar(messages_in_scope(actor).where(SmsMessage.id == message_id))
    if message is None:
        raise NotFound(message_id)
    if message.status not in ATTENTION or message.dismissed_at is not None:
        raise ValidationError({"": [_("This message no longer needs a decision.")]})
    if action == "went_out" and message.status == Status.NEEDS_CHECK:
        message.status, message.sent_at = Status.SENT, message.sent_at or now
    elif action == "again" and message.error_code not in (INVALID_NUMBER, OPTED_OUT_CODE):
        if opted_out_numbers([message.to_phone]):
            raise ValidationError({"": [_("This number opted out: it gets no more SMS.")]})
        message.status, message.due_at, message.error_message = Status.QUEUED, next_send_time(now), ""
        message.error_code = None
    elif action == "dismiss":
        message.dismissed_at = now
    else:
        raise ValidationError({"": [_("This message no longer needs a decision.")]})
    message.updated_at = now
    record_event(actor, "sms.resolve", target=message, detail={"label": action}, now=now)
    db.session.flush()
    return message
