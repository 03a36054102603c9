"""Follow-up reminders that tell the truth: "hôm nay" only on the day itself, nothing by SMS more than
a day late (the household still comes back on the member's Today, marked late), never to a number the
network refused, and never at an hour nobody expects one."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from outreach import clock
from outreach.extensions import db
from outreach.planning.models import Assignment
from outreach.scheduler import catch_up, reminders_may_catch_up
from outreach.sms import services
from outreach.sms.dispatcher import dispatch_once
from outreach.sms.models import FollowUpReminder, SmsMessage, Status
from outreach.visits.services import record_visit
from tests.conftest import login, visit_payload
from tests.sms.conftest import DAY

FOLLOW_UP = date(2026, 11, 28)
ON_TIME = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội on the follow-up day
NEXT_MORNING = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)  # 08:00 the day after
TWO_DAYS_LATE = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def follow_up(users, household, *, on: date = FOLLOW_UP, now: datetime = DAY):
    payload = visit_payload(household, outcome="follow_up", follow_up_on=on.isoformat(), device_time=now.isoformat())
    assert record_visit(users["member"], payload, now=now).status == "created"
    db.session.commit()


def run_reminders(now: datetime) -> tuple[int, int]:
    result = services.follow_up_reminders(today=clock.local_today(now), now=now)
    db.session.commit()
    return result


def reminder() -> SmsMessage | None:
    db.session.rollback()
    return db.session.scalar(sa.select(SmsMessage).where(SmsMessage.kind == "reminder"))


def test_on_the_day_the_reminder_says_today(app, users, homes):
    follow_up(users, homes["sms"])
    assert run_reminders(ON_TIME) == (1, 1)
    assert "hôm nay 28/11" in reminder().body


def test_a_day_late_the_reminder_names_the_day_and_never_says_today(app, users, homes):
    follow_up(users, homes["sms"])
    assert run_reminders(NEXT_MORNING) == (1, 1)  # the scheduler was down on the 28th
    body = reminder().body
    assert "hôm nay" not in body and "28/11" in body and "Nguyễn Thị Hoà" in body
    task = db.session.scalar(sa.select(Assignment))
    assert task.due_on == FOLLOW_UP  # on the member's Today as planned for the 28th: late


def test_more_than_a_day_late_no_sms_but_the_household_is_on_today_marked_late(client, app, users, homes):
    now = clock.utcnow()
    today = clock.local_today(now)
    follow_up(users, homes["sms"], on=today - timedelta(days=2), now=now - timedelta(days=3))
    assert run_reminders(now) == (0, 1)
    assert reminder() is None
    assert db.session.scalar(sa.select(FollowUpReminder)).message_id is None
    assert run_reminders(now) == (0, 0)  # handled once
    login(client, "member.tanha")
    page = client.get("/today").get_data(as_text=True)
    assert "Nguyễn Thị Hoà" in page
    late = (today - timedelta(days=2)).strftime("%d/%m/%Y")
    assert f"Trễ hạn: dự kiến ngày {late}" in page


def test_a_reminder_queued_on_its_day_but_sent_the_next_day_does_not_say_today(app, users, homes, gateway, fake_twilio):
    follow_up(users, homes["sms"])
    assert run_reminders(ON_TIME) == (1, 1)
    # The dispatcher was down until the next morning: the message names the day instead.
    assert dispatch_once(gateway, clock=lambda: NEXT_MORNING) == {"sent": 1}
    [sent] = fake_twilio.sent
    assert "hôm nay" not in sent["Body"] and "28/11" in sent["Body"]
    row = reminder()
    assert row.body == sent["Body"] and row.segments >= 1


def test_a_reminder_that_could_only_go_out_two_days_late_is_cancelled(app, users, homes, gateway, fake_twilio):
    follow_up(users, homes["sms"])
    assert run_reminders(ON_TIME) == (1, 1)
    assert dispatch_once(gateway, clock=lambda: TWO_DAYS_LATE) == {"cancelled": 1}
    assert fake_twilio.requests == []
    assert reminder().error_message == "too_late"


def test_the_daily_cap_never_makes_a_reminder_say_today_on_another_day(app, users, homes):
    app.config["SMS_DAILY_CAP_PER_COMMUNE"] = 1
    try:
        follow_up(users, homes["sms"])
        db.session.add(
            SmsMessage(
                kind="guide", commune_id=homes["sms"].village.parent_id, to_phone="+84900000001", body="x",
                encoding="GSM-7", segments=1, token="full-day", status=Status.SENT, due_at=ON_TIME,
            )
        )  # fmt: skip
        db.session.commit()
        assert run_reminders(ON_TIME) == (1, 1)  # today's one message is used: it waits for tomorrow
        row = reminder()
        assert clock.local_today(row.due_at) == FOLLOW_UP + timedelta(days=1)
        assert "hôm nay" not in row.body and "28/11" in row.body
    finally:
        app.config["SMS_DAILY_CAP_PER_COMMUNE"] = 500


def test_no_reminder_to_a_number_the_network_refused_as_invalid(app, users, homes, guide, gateway, fake_twilio):
    services.queue_guide_sms(users["leader"], [homes["sms"].id], guide.id, "{link}", now=DAY)
    db.session.commit()
    fake_twilio.script = [21211]
    assert dispatch_once(gateway, clock=lambda: DAY) == {"failed": 1}
    follow_up(users, homes["sms"])
    assert run_reminders(ON_TIME) == (0, 1)  # the member still goes back
    assert reminder() is None and len(fake_twilio.requests) == 1


def test_a_number_refused_as_invalid_cancels_the_reminder_waiting_for_it(
    app, users, homes, guide, gateway, fake_twilio
):
    follow_up(users, homes["sms"])
    services.queue_guide_sms(users["leader"], [homes["sms"].id], guide.id, "{link}", now=ON_TIME - timedelta(minutes=1))
    db.session.commit()
    assert run_reminders(ON_TIME) == (1, 1)
    fake_twilio.script = [21211]
    assert dispatch_once(gateway, clock=lambda: ON_TIME) == {"failed": 1}
    assert len(fake_twilio.requests) == 1
    row = reminder()
    assert (row.status, row.error_message) == (Status.CANCELLED, "invalid_number")
    assert dispatch_once(gateway, clock=lambda: ON_TIME + timedelta(hours=1)) == {}


# --- the scheduler ---------------------------------------------------------------------------


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.local_zone()).astimezone(UTC)


def test_reminders_catch_up_only_in_the_morning_they_were_due(app):
    hour = app.config["FOLLOW_UP_REMINDER_HOUR"]
    assert hour == 8
    assert not reminders_may_catch_up(at_local(FOLLOW_UP, 7, 59))
    assert reminders_may_catch_up(at_local(FOLLOW_UP, 8))
    assert reminders_may_catch_up(at_local(FOLLOW_UP, 11, 59))
    assert not reminders_may_catch_up(at_local(FOLLOW_UP, 12))
    assert not reminders_may_catch_up(at_local(FOLLOW_UP, 22))


def test_starting_the_scheduler_at_night_sends_no_morning_reminders(app, users, homes):
    follow_up(users, homes["sms"])
    catch_up(app, now=at_local(FOLLOW_UP, 22))
    assert reminder() is None and db.session.scalar(sa.select(FollowUpReminder)) is None
    catch_up(app, now=at_local(FOLLOW_UP, 9, 30))  # a restart the same morning does catch up
    assert "hôm nay 28/11" in reminder().body


def test_a_scheduler_becoming_active_catches_up_with_the_clock_it_became_active_at(app, users, homes, monkeypatch):
    import threading

    from apscheduler.schedulers.background import BackgroundScheduler

    from outreach.scheduler import Lock, run_active

    follow_up(users, homes["sms"])
    started = []
    monkeypatch.setattr(BackgroundScheduler, "start", lambda self: started.append(self))
    monkeypatch.setattr(BackgroundScheduler, "shutdown", lambda self, wait=True: None)
    monkeypatch.setattr("outreach.scheduler.utcnow", lambda: at_local(FOLLOW_UP, 22))
    stop = threading.Event()
    stop.set()  # active for one moment: the catch-up, then stop
    run_active(app, Lock(lambda: None), stop, "test")
    assert started and reminder() is None


def test_the_reminder_job_fires_at_the_reminder_hour_and_not_after_the_morning(app):
    from outreach.scheduler import build_scheduler

    job = build_scheduler(app).get_job("follow-up-reminders")
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert fields["hour"] == "8" and fields["minute"] == "0"
    assert job.misfire_grace_time <= 4 * 3600  # a run missed by more than the morning is skipped


def test_no_follow_up_task_for_a_member_who_moved_away(app, users, homes, geo):
    follow_up(users, homes["sms"])
    users["member"].scope_unit = geo["tanha_v2"]  # moved to the other village: the household is out of sight
    db.session.commit()
    run_reminders(ON_TIME)
    open_tasks = db.session.scalars(sa.select(Assignment).where(Assignment.released_at.is_(None))).all()
    assert open_tasks == []
