"""Scheduled jobs: follow-up reminders and the daily summaries for leaders."""

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from outreach.auth.models import Role, User
from outreach.auth.scope import households_in_scope
from outreach.clock import day_bounds
from outreach.extensions import db
from outreach.geo.models import AdminUnit, Household, Level
from outreach.planning.models import Assignment
from outreach.sms.models import DailySummary, FollowUpReminder, InboundSms, SmsMessage, Status
from outreach.sms.segments import count_segments
from outreach.sms.services.composing import new_token, reminder_text
from outreach.sms.services.outbox import ATTENTION
from outreach.sms.services.policy import (
    commune_of,
    hold_daily_caps,
    invalid_numbers,
    opted_out_numbers,
    schedule,
    sms_blocker,
)
from outreach.visits.models import VisitRecord, current_visits, latest_visits


def follow_up_reminders(*, today: date, now: datetime) -> tuple[int, int]:
    """For each visit whose follow-up date has come (and nothing newer was recorded for the household):
    an SMS reminder to the resident when they may receive one, and the household on the member's
    Today list, planned for the follow-up day (so a late one shows as late). Each visit once, however
    often the job runs. Returns (messages, tasks).

    The reminder says "today" only when it goes out on the follow-up day; on the day after it names
    the day; later (the scheduler was down, or the daily cap is full) no SMS at all, and none to a
    number the network refused as invalid."""
    latest = latest_visits()
    visits = db.session.scalars(
        sa.select(VisitRecord)
        .join(latest, latest.c.visit_id == VisitRecord.id)
        .outerjoin(FollowUpReminder, FollowUpReminder.visit_id == VisitRecord.id)
        .where(
            VisitRecord.follow_up_on <= today,
            VisitRecord.follow_up_on >= today - timedelta(days=3),
            FollowUpReminder.visit_id.is_(None),
        )
        .order_by(VisitRecord.id)
    ).all()
    phones = [v.household.phone for v in visits if v.household.phone]
    opted_out, invalid = opted_out_numbers(phones), invalid_numbers(phones)
    hold_daily_caps(commune_of(v.household).id for v in visits if v.household.erased_at is None)
    sent = tasks = 0
    for visit in visits:
        household = visit.household
        reminder = FollowUpReminder(visit_id=visit.id, created_at=now)
        if household.erased_at is None:
            if sms_blocker(household, opted_out) is None and household.phone not in invalid:
                commune = commune_of(household)
                due = schedule(commune.id, 1, now=now)[0]
                assert visit.follow_up_on is not None  # the query picks visits with a follow-up date
                body = reminder_text(visit.follow_up_on, household.head_name, at=due)
                if body is not None:
                    counted = count_segments(body)
                    message = SmsMessage(
                        kind="reminder", commune_id=commune.id, household_id=household.id, visit_id=visit.id,
                        to_phone=household.phone, body=body, encoding=counted.encoding, segments=counted.segments,
                        token=new_token(), status=Status.QUEUED, due_at=due, created_at=now, updated_at=now,
                    )  # fmt: skip
                    db.session.add(message)
                    db.session.flush()
                    reminder.message_id = message.id
                    sent += 1
            open_assignment = db.session.scalar(
                sa.select(Assignment).where(Assignment.household_id == household.id, Assignment.released_at.is_(None))
            )
            if open_assignment is None and visit.member.active and _still_sees(visit.member, household):
                task = Assignment(
                    household_id=household.id, member_id=visit.member_id, due_on=visit.follow_up_on, created_at=now
                )
                db.session.add(task)
                db.session.flush()
                reminder.assignment_id = task.id
                tasks += 1
        db.session.add(reminder)
    db.session.flush()
    return sent, tasks


def _still_sees(member: User, household: Household) -> bool:
    """The member who promised the follow-up may still see the household (neither moved away)."""
    return (
        member.role in (Role.LEADER, Role.MEMBER)
        and db.session.scalar(
            households_in_scope(member).where(Household.id == household.id).with_only_columns(Household.id)
        )
        is not None
    )


def daily_summaries(*, day: date, now: datetime) -> int:
    """Yesterday in numbers for every commune that has a leader, written once per commune and day."""
    start, end = day_bounds(day)
    communes = db.session.scalars(
        sa.select(AdminUnit)
        .join(User, User.scope_unit_id == AdminUnit.id)
        .where(User.role == Role.LEADER, User.active.is_(True), AdminUnit.level == Level.COMMUNE)
        .distinct()
    ).all()
    written = 0
    for commune in communes:
        if db.session.scalar(
            sa.select(DailySummary.id).where(DailySummary.commune_id == commune.id, DailySummary.day == day)
        ):
            continue
        village_ids = sa.select(AdminUnit.id).where(AdminUnit.parent_id == commune.id)
        visits = current_visits().where(
            VisitRecord.device_time >= start, VisitRecord.device_time < end,
            VisitRecord.household_id.in_(sa.select(Household.id).where(Household.village_id.in_(village_ids))),
        ).subquery()  # fmt: skip
        visited, helped = db.session.execute(
            sa.select(sa.func.count(visits.c.id), sa.func.count(visits.c.id).filter(visits.c.outcome == "helped"))
        ).one()
        sms = dict(
            db.session.execute(
                sa.select(SmsMessage.status, sa.func.count(SmsMessage.id))
                .where(SmsMessage.commune_id == commune.id, SmsMessage.updated_at >= start, SmsMessage.updated_at < end)
                .group_by(SmsMessage.status)
            ).all()
        )
        replies = db.session.scalar(
            sa.select(sa.func.count(InboundSms.id)).where(
                InboundSms.commune_id == commune.id, InboundSms.received_at >= start, InboundSms.received_at < end
            )
        )
        follow_ups = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(current_visits().where(
                VisitRecord.follow_up_on == day + timedelta(days=1),
                VisitRecord.household_id.in_(sa.select(Household.id).where(Household.village_id.in_(village_ids))),
            ).subquery())
        )  # fmt: skip
        figures = {
            "visits": visited, "helped": helped,
            "sms_sent": sum(sms.get(s, 0) for s in (Status.SENT, Status.DELIVERED, Status.UNDELIVERED)),
            "sms_delivered": sms.get(Status.DELIVERED, 0),
            "sms_problems": sum(sms.get(s, 0) for s in ATTENTION),
            "replies": replies, "follow_ups_today": follow_ups,
        }  # fmt: skip
        db.session.add(DailySummary(commune_id=commune.id, day=day, figures=figures, created_at=now))
        written += 1
    db.session.flush()
    return written
