"""Reminders of the month's report from the 25th: a notice on the start page of everyone who writes an
unsubmitted report, an SMS through the outbox only to those who agreed (quiet hours, opt-outs and the
sender's rules hold), once per person and month however often the job runs."""

from datetime import UTC, date, datetime

import sqlalchemy as sa

from outreach import clock
from outreach.activity import figures as counting
from outreach.activity.models import ActivityReminder, ReminderPhone
from outreach.activity.periods import parse_period
from outreach.activity.reminders import agree_to_reminders, due_period, send_reminders, stop_reminders
from outreach.activity.services import submit_report
from outreach.extensions import db
from outreach.scheduler import build_scheduler
from outreach.sms import services as sms_services
from outreach.sms.dispatcher import dispatch_once
from outreach.sms.gateway import ConsoleGateway
from outreach.sms.models import SmsMessage, Status
from tests.activity.conftest import PERIOD
from tests.conftest import NOW, csrf_token, login

MORNING_26 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
NIGHT_25 = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 22:00: quiet hours


def run(now):
    result = send_reminders(today=clock.local_today(now), now=now)
    db.session.commit()
    return result


def test_which_month_is_due():
    assert due_period(date(2026, 11, 24)) is None
    assert due_period(date(2026, 11, 25)).key == "2026-11"
    assert due_period(date(2026, 12, 3)).key == "2026-11"  # the first days of the next month still remind
    assert due_period(date(2026, 12, 10)) is None


def test_from_the_25th_a_notice_to_each_writer_and_an_sms_only_to_who_agreed(client, app, geo, people):
    agree_to_reminders(people["leader"], "0912 345 678", agreed=True, now=NOW)
    db.session.commit()
    assert run(datetime(2026, 11, 20, 2, 0, tzinfo=UTC)) == (0, 0)  # before the 25th: nothing
    # Leaders of Tân Hà, Minh Khương and Đội Cấn, staff of the city and of Hàm Yên; one SMS (Tân Hà's leader).
    assert run(MORNING_26) == (5, 1)
    assert run(MORNING_26) == (0, 0)  # the job may run again: nobody twice
    message = db.session.scalar(sa.select(SmsMessage))
    assert message.to_phone == "+84912345678" and message.status == Status.QUEUED and message.household_id is None
    assert "Phường Tân Hà" in message.body and "11/2026" in message.body
    assert f"/activity/units/{geo['tanha'].id}?period=2026-11" in message.body
    # It goes out through the outbox like every SMS.
    dispatch_once(ConsoleGateway(), clock=lambda: MORNING_26)
    db.session.commit()
    assert db.session.get(SmsMessage, message.id).status == Status.SENT
    # A reminder to a leader is not an SMS to residents: the commune's figures do not count it.
    november = parse_period(PERIOD)
    assert counting.sms_figures(geo["tanha"], november)["sms_sent"] == 0
    login(client, "leader.tanha")
    home = client.get("/").get_data(as_text=True)
    assert "chưa được nộp" in home and f"/activity/units/{geo['tanha'].id}?period=2026-11" in home


def test_no_reminder_once_submitted_and_the_notice_goes(client, app, geo, people):
    november = parse_period(PERIOD)
    run(MORNING_26)
    login(client, "leader.tanha")
    assert "chưa được nộp" in client.get("/").get_data(as_text=True)
    submit_report(people["leader"], geo["tanha"], november, went_well="", blocked="", today=NOW.date(), now=NOW)
    db.session.commit()
    assert "chưa được nộp" not in client.get("/").get_data(as_text=True)
    # District staff see that a report waits for their approval.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "staff.city")
    assert "1 báo cáo hoạt động đang chờ bạn duyệt" in client.get("/").get_data(as_text=True)


def test_quiet_hours_and_opt_outs_hold(app, geo, people):
    agree_to_reminders(people["leader"], "0912345678", agreed=True, now=NOW)
    agree_to_reminders(people["leader_other"], "0987654321", agreed=True, now=NOW)
    sms_services.opt_out("+84987654321", source="reply", keyword="TU CHOI", now=NOW)
    db.session.commit()
    assert run(NIGHT_25) == (5, 1)  # the opted-out leader still gets the notice, never the SMS
    message = db.session.scalar(sa.select(SmsMessage))
    assert message.to_phone == "+84912345678"
    assert message.due_at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)  # 07:00, the end of the quiet hours
    reminder = db.session.scalar(
        sa.select(ActivityReminder).where(ActivityReminder.user_id == people["leader_other"].id)
    )
    assert reminder.message_id is None


def test_agreeing_is_explicit_and_stopping_cancels_what_waits(client, app, geo, people):
    login(client, "leader.tanha")
    token = csrf_token(client, "/activity/reminders")
    refused = client.post("/activity/reminders", data={"csrf_token": token, "phone": "0912345678"})
    assert refused.status_code == 200 and db.session.get(ReminderPhone, people["leader"].id) is None
    assert "Đánh dấu vào ô đồng ý" in refused.get_data(as_text=True)
    client.post("/activity/reminders", data={"csrf_token": token, "phone": "0912345678", "agree": "y"})
    db.session.rollback()
    row = db.session.get(ReminderPhone, people["leader"].id)
    assert row.phone == "+84912345678" and "ngày 25" in row.consent_text and row.consented_at is not None
    run(NIGHT_25)
    stop_reminders(people["leader"], now=NOW)
    db.session.commit()
    assert db.session.scalar(sa.select(SmsMessage.status)) == Status.CANCELLED
    assert db.session.get(ReminderPhone, people["leader"].id).phone is None
    bad = client.post("/activity/reminders", data={"csrf_token": token, "phone": "12", "agree": "y"})
    assert bad.status_code == 200 and "không phải là số điện thoại" in bad.get_data(as_text=True)


def test_the_scheduler_runs_the_reminders_every_morning(app):
    with app.app_context():
        jobs = {job.id: job for job in build_scheduler(app).get_jobs()}
    assert "activity-report-reminders" in jobs
    assert str(jobs["activity-report-reminders"].trigger).startswith("cron[hour='9'")


def test_the_command_line_reminds_too(runner, geo, people, monkeypatch):
    monkeypatch.setattr(clock, "utcnow", lambda: MORNING_26)
    monkeypatch.setattr("outreach.activity.cli.utcnow", lambda: MORNING_26)
    result = runner.invoke(args=["activity", "remind"])
    assert result.exit_code == 0 and "5 reminders, 0 SMS queued" in result.output
