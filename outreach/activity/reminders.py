"""Reminders of a month's report, from ``ACTIVITY_REMINDER_DAY`` (the 25th) until it is submitted: an
in-app notice for each person who writes it (a commune's leaders, a district's staff), and an SMS to
those who agreed to receive one, through the SMS outbox (quiet hours, the daily cap and opt-outs hold).
One of each per person and period, however often the job runs.

The notices a person sees on their start page come from here too: reminders of reports not yet
submitted, reports returned to them, and reports waiting for their approval."""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from outreach.activity.models import ActivityReminder, ActivityReport, ReminderPhone, ReportStatus
from outreach.activity.periods import ReportPeriod, month_of
from outreach.activity.services import find_report, reports_to_review
from outreach.audit.services import record_event
from outreach.auth.models import Role, User
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Level
from outreach.geo.phone import PhoneError, normalize_phone
from outreach.sms.models import SmsMessage, Status
from outreach.sms.segments import count_segments
from outreach.sms.services import invalid_numbers, new_token, opted_out_numbers, schedule

# Reminders of last month's report go on for the first days of the next month, then stop.
GRACE_DAYS = 5
CONSENT_TEXT = _l(
    "I agree to receive an SMS on this number when my unit's monthly activity report is still not submitted "
    "on day %(day)s of the month. I can stop at any time on this page or by replying TU CHOI."
)


def reminder_day() -> int:
    return int(current_app.config.get("ACTIVITY_REMINDER_DAY", 25)) if has_app_context() else 25


def due_period(today: date) -> ReportPeriod | None:
    """The month whose report is due: this month from the reminder day on, last month for the first days
    of the next one, else none."""
    this = month_of(today)
    if today.day >= reminder_day():
        return this
    if today.day <= GRACE_DAYS:
        return this.previous()
    return None


def writers() -> list[tuple[User, AdminUnit]]:
    """Who writes which report: every active commune leader, and every active district staff member."""
    rows = db.session.execute(
        sa.select(User, AdminUnit)
        .join(AdminUnit, AdminUnit.id == User.scope_unit_id)
        .where(
            User.active.is_(True),
            sa.or_(
                sa.and_(User.role == Role.LEADER, AdminUnit.level == Level.COMMUNE),
                sa.and_(User.role == Role.STAFF, AdminUnit.level == Level.DISTRICT),
            ),
        )
        .order_by(AdminUnit.id, User.id)
    ).all()
    return [(user, unit) for user, unit in rows]


def report_url(unit: AdminUnit, period: ReportPeriod) -> str:
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return f"{base}/activity/units/{unit.id}?period={period.key}"


def reminder_text(user: User, unit: AdminUnit, period: ReportPeriod) -> str:
    """The SMS, in the person's language."""
    with force_locale(user.language or "vi"):
        return _(
            "Reminder: the activity report of %(unit)s for %(period)s has not been submitted yet. %(link)s",
            unit=unit.name,
            period=period.label,
            link=report_url(unit, period),
        )


def send_reminders(*, today: date, now: datetime) -> tuple[int, int]:
    """Remind everyone whose report for the due month is not submitted (nor approved): a notice, and an
    SMS where they agreed to one and their number neither opted out nor was refused. Returns
    (notices, SMS queued)."""
    period = due_period(today)
    if period is None:
        return 0, 0
    already = set(
        db.session.execute(
            sa.select(ActivityReminder.user_id, ActivityReminder.unit_id).where(
                ActivityReminder.period_start == period.start
            )
        ).all()
    )
    phones = {p.user_id: p for p in db.session.scalars(sa.select(ReminderPhone)) if p.active}
    numbers = [p.phone for p in phones.values() if p.phone]
    refused = opted_out_numbers(numbers) | invalid_numbers(numbers)
    notices = messages = 0
    for user, unit in writers():
        if (user.id, unit.id) in already:
            continue
        report = find_report(unit, period)
        if report is not None and report.is_submitted:
            continue
        reminder = ActivityReminder(user_id=user.id, unit_id=unit.id, period_start=period.start, created_at=now)
        phone = phones.get(user.id)
        if phone is not None and phone.phone and phone.phone not in refused:
            body = reminder_text(user, unit, period)
            counted = count_segments(body)
            message = SmsMessage(
                kind="reminder", commune_id=unit.id, to_phone=phone.phone, body=body, encoding=counted.encoding,
                segments=counted.segments, token=new_token(), status=Status.QUEUED,
                due_at=schedule(unit.id, 1, now=now)[0], created_at=now, updated_at=now,
            )  # fmt: skip
            db.session.add(message)
            db.session.flush()
            reminder.message_id = message.id
            messages += 1
        db.session.add(reminder)
        notices += 1
    db.session.flush()
    return notices, messages


@dataclass
class Notice:
    kind: str  # due | returned | to_review
    unit: AdminUnit
    period: ReportPeriod | None
    comment: str = ""
    count: int = 0


def notices_for(user: User) -> list[Notice]:
    """What the start page tells a person about reports: theirs not yet submitted since a reminder went
    out, theirs returned with a comment, and (for staff) how many wait for their approval."""
    notices: list[Notice] = []
    rows = db.session.execute(
        sa.select(ActivityReminder, ActivityReport.status)
        .outerjoin(
            ActivityReport,
            sa.and_(
                ActivityReport.unit_id == ActivityReminder.unit_id,
                ActivityReport.period_kind == "month",
                ActivityReport.period_start == ActivityReminder.period_start,
            ),
        )
        .where(ActivityReminder.user_id == user.id)
        .order_by(ActivityReminder.period_start.desc())
        .limit(12)
    ).all()
    for reminder, status in rows:
        if status not in (ReportStatus.SUBMITTED, ReportStatus.APPROVED, ReportStatus.RETURNED):
            notices.append(Notice("due", reminder.unit, ReportPeriod("month", reminder.period_start)))
    if user.scope_unit_id is not None:
        returned = db.session.scalars(
            sa.select(ActivityReport)
            .where(ActivityReport.unit_id == user.scope_unit_id, ActivityReport.status == ReportStatus.RETURNED)
            .order_by(ActivityReport.period_start.desc())
        )
        if user.role in (Role.LEADER, Role.STAFF):
            notices += [
                Notice("returned", r.unit, ReportPeriod(r.period_kind, r.period_start), r.review_comment)
                for r in returned
            ]
    waiting = reports_to_review(user)
    if waiting:
        first = waiting[0]  # the oldest: its unit's parent is where the reviewer approves it
        period = ReportPeriod(first.period_kind, first.period_start)
        notices.append(Notice("to_review", first.unit.parent or first.unit, period, count=len(waiting)))
    return notices


# --- the phone a person agreed to be reminded on ------------------------------------------------------


def reminder_phone(user: User) -> ReminderPhone | None:
    return db.session.get(ReminderPhone, user.id)


def consent_text() -> str:
    return str(CONSENT_TEXT) % {"day": reminder_day()}


def agree_to_reminders(user: User, raw_phone: str, *, agreed: bool, now: datetime) -> ReminderPhone:
    """Record the number and the person's explicit agreement (the exact text, when). Never pre-agreed."""
    if user.role not in (Role.ADMIN, Role.LEADER, Role.STAFF):
        raise ValidationError({"": [_("Only those who write a report are reminded of it.")]})
    try:
        phone = normalize_phone(raw_phone)
    except PhoneError as exc:
        raise ValidationError({"phone": [str(exc)]}) from exc
    errors: dict[str, list[str]] = {}
    if phone is None:
        errors["phone"] = [_("Write the mobile number to remind.")]
    if not agreed:
        errors["agree"] = [_("Tick the box to agree: no SMS is sent without it.")]
    if errors:
        raise ValidationError(errors)
    row = reminder_phone(user)
    if row is None:
        row = ReminderPhone(user_id=user.id)
        db.session.add(row)
    elif row.phone and row.phone != phone:
        _cancel_waiting_reminders(user, now=now)
    row.phone, row.consent_text, row.consented_at, row.withdrawn_at = phone, consent_text(), now, None
    record_event(user, "activity.reminders_on", target=user, now=now)
    db.session.flush()
    return row


def _cancel_waiting_reminders(user: User, *, now: datetime) -> None:
    """Cancel this person's reminders still waiting in the outbox (never anyone else's messages)."""
    db.session.execute(
        sa.update(SmsMessage)
        .where(
            SmsMessage.id.in_(sa.select(ActivityReminder.message_id).where(ActivityReminder.user_id == user.id)),
            SmsMessage.status == Status.QUEUED,
        )
        .values(status=Status.CANCELLED, error_message="no_consent_or_opted_out", updated_at=now)
        .execution_options(synchronize_session=False)
    )


def stop_reminders(user: User, *, now: datetime) -> None:
    """Withdraw: the number is forgotten and a reminder still waiting is cancelled."""
    row = reminder_phone(user)
    if row is None or not row.active:
        return
    _cancel_waiting_reminders(user, now=now)
    row.phone, row.withdrawn_at = None, now
    record_event(user, "activity.reminders_off", target=user, now=now)
    db.session.flush()
