from datetime import timedelta

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from outreach.extensions import db
from outreach.scheduler import AlreadyRunning, build_scheduler, single_instance
from outreach.sms import services
from outreach.sms.dispatcher import dispatch_once
from outreach.sms.models import Guide, InboundSms, OptOut, SmsMessage, Status
from outreach.visits.services import record_visit
from tests.conftest import login, visit_payload
from tests.sms.conftest import DAY


def signed_post(client, app, path, params, *, signature=None):
    url = app.config["PUBLIC_BASE_URL"] + path
    sig = RequestValidator(app.config["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature if signature is not None else sig})


@pytest.fixture
def sent(app, users, homes, guide, gateway, fake_twilio):
    services.queue_guide_sms(users["leader"], [homes["sms"].id], guide.id, "{name} {link}", now=DAY)
    db.session.commit()
    dispatch_once(gateway, clock=lambda: DAY)
    db.session.rollback()
    return db.session.scalar(sa.select(SmsMessage))


def test_signed_delivery_receipts_move_the_message_forward(client, app, sent):
    assert (
        signed_post(
            client, app, "/sms/status", {"MessageSid": sent.provider_sid, "MessageStatus": "delivered"}
        ).status_code
        == 204
    )
    # A late "sent" never undoes "delivered".
    signed_post(client, app, "/sms/status", {"MessageSid": sent.provider_sid, "MessageStatus": "sent"})
    db.session.rollback()
    row = db.session.get(SmsMessage, sent.id)
    assert row.status == Status.DELIVERED and row.delivered_at is not None


def test_undelivered_with_an_error_code_and_21610_by_receipt(client, app, sent):
    params = {"MessageSid": sent.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "21610"}
    assert signed_post(client, app, "/sms/status", params).status_code == 204
    db.session.rollback()
    assert db.session.get(SmsMessage, sent.id).error_code == 21610
    assert db.session.get(OptOut, sent.to_phone) is not None
    # Said as it is: the network refused it (the number unsubscribed); nobody saw a reply "STOP".
    login(client, "leader.tanha")
    outbox = client.get("/sms").get_data(as_text=True)
    assert "Nhà mạng từ chối: số này đã hủy nhận tin nhắn từ chúng ta" in outbox and "nhắn STOP" not in outbox
    household = client.get(f"/households/{sent.household_id}").get_data(as_text=True)
    assert "nhà mạng từ chối gửi SMS tới số này" in household and "đã nhắn STOP" not in household


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_unsigned_or_badly_signed_webhooks_get_403_and_change_nothing(client, app, sent, signature):
    params = {"MessageSid": sent.provider_sid, "MessageStatus": "failed"}
    assert signed_post(client, app, "/sms/status", params, signature=signature).status_code == 403
    stop = {"From": "+84912345678", "Body": "STOP", "MessageSid": "SMx"}
    assert signed_post(client, app, "/sms/inbound", stop, signature=signature).status_code == 403
    db.session.rollback()
    assert db.session.get(SmsMessage, sent.id).status == Status.SENT
    assert (
        db.session.scalar(sa.select(sa.func.count(InboundSms.id))) == 0
        and db.session.get(OptOut, "+84912345678") is None
    )


@pytest.mark.parametrize("body", ["STOP", "stop", "HUY", "Huỷ", "hủy", "TU CHOI", "Từ chối", "tu  choi!"])
def test_inbound_stop_words_opt_the_number_out(client, app, users, homes, guide, body):
    services.queue_guide_sms(users["leader"], [homes["sms"].id], guide.id, "{link}", now=DAY + timedelta(days=1))
    db.session.commit()
    response = signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": body, "MessageSid": "SM1"})
    assert response.status_code == 200 and response.mimetype == "application/xml"
    db.session.rollback()
    assert db.session.get(OptOut, "+84912345678").source == "reply"
    assert db.session.scalar(sa.select(SmsMessage.status)) == Status.CANCELLED  # what waited is not sent
    reply = db.session.scalar(sa.select(InboundSms))
    assert reply.keyword == "stop" and reply.household_id == homes["sms"].id


def test_start_opts_back_in_help_answers_and_replies_reach_the_commune_leader(client, app, users, homes):
    signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "HUY", "MessageSid": "SM1"})
    start = signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "Bắt đầu", "MessageSid": "SM2"})
    assert "TU CHOI" in start.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(OptOut, "+84912345678") is None
    help_ = signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "help", "MessageSid": "SM3"})
    assert "<Message>" in help_.get_data(as_text=True)
    signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "Cảm ơn cán bộ", "MessageSid": "SM4"})
    signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "Cảm ơn cán bộ", "MessageSid": "SM4"})
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(InboundSms.id))) == 4  # the retried webhook stored once
    login(client, "leader.tanha")
    assert "Cảm ơn cán bộ" in client.get("/sms").get_data(as_text=True)
    client.post("/logout", data={})
    other = client.application.test_client()
    login(other, "leader.minhkhuong")
    assert "Cảm ơn cán bộ" not in other.get("/sms").get_data(as_text=True)


def test_public_guide_page_needs_no_login_counts_opens_and_stays_small(client, app, sent):
    guide = sent.guide
    page = client.get(f"/g/{guide.code}?t={sent.token}")
    assert page.status_code == 200 and "Mở CH Play" in page.get_data(as_text=True)
    assert "Set-Cookie" not in page.headers and len(page.data) < 50_000
    assert "<script src" not in page.get_data(as_text=True)  # nothing to load: it works without JavaScript
    client.get(f"/g/{guide.code}")
    client.get(f"/g/{guide.code}", headers={"Sec-Fetch-Dest": "empty"})  # the service worker filling its cache
    db.session.rollback()
    assert db.session.get(Guide, guide.id).opens == 2
    row = db.session.get(SmsMessage, sent.id)
    assert row.opens == 1 and row.opened_at is not None
    assert client.get("/g/nothing").status_code == 404


def test_guide_pages_are_in_the_service_worker(client, guide):
    assert '"/g/vneid1"' in client.get("/sw.js").get_data(as_text=True)


def test_print_view_has_the_steps_and_a_qr_code_of_the_short_link(client, users, guide):
    login(client, "member.tanha")
    page = client.get(f"/guides/{guide.id}/print").get_data(as_text=True)
    assert "<svg" in page and "@page" in page and "A5" in page and "Tìm VNeID" in page
    assert "https://outreach.example.vn/g/vneid1" in page


def test_markdown_is_sanitized(app, users):
    guide = services.save_guide(
        users["leader"],
        services.GuideInput("x1", "T", "1. ok <script>alert(1)</script> [a](javascript:alert(1))"),
        now=DAY,
    )
    html = str(services.render_markdown(guide.body_vi))
    assert "<script" not in html and 'href="javascript' not in html


def test_members_send_from_a_household_and_leaders_elsewhere_get_404(client, users, homes, guide):
    login(client, "member.tanha")
    url = f"/households/{homes['sms'].id}/sms"
    page = client.get(url).get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": token, "guide_id": guide.id, "template": "Chào {name}: {link}", "action": "send"}
    assert client.post(url, data=data).status_code == 302
    db.session.rollback()
    row = db.session.scalar(sa.select(SmsMessage))
    assert row.status == Status.QUEUED and row.created_by_id == users["member"].id
    other = client.application.test_client()
    login(other, "leader.minhkhuong")
    assert other.get(url).status_code == 404


def test_follow_up_reminders_once_per_visit_with_a_task_for_the_member(app, users, homes):
    from outreach.planning.models import Assignment

    payload = visit_payload(homes["sms"], outcome="follow_up", follow_up_on="2026-11-28")
    assert record_visit(users["member"], payload, now=DAY).status == "created"
    db.session.commit()
    day = DAY.date() + timedelta(days=2)
    assert services.follow_up_reminders(today=day, now=DAY + timedelta(days=2)) == (1, 1)
    assert services.follow_up_reminders(today=day, now=DAY + timedelta(days=2)) == (0, 0)
    reminder = db.session.scalar(sa.select(SmsMessage))
    assert reminder.kind == "reminder" and "28/11" in reminder.body
    task = db.session.scalar(sa.select(Assignment))
    assert task.member_id == users["member"].id and task.due_on == day
    assert services.daily_summaries(day=DAY.date(), now=DAY) == 2  # the two communes with a leader
    assert services.daily_summaries(day=DAY.date(), now=DAY) == 0
    from outreach.sms.models import DailySummary

    tanha = db.session.scalar(sa.select(DailySummary).where(DailySummary.commune_id == homes["sms"].village.parent_id))
    assert tanha.figures["visits"] == 1


def test_only_one_scheduler_runs(app):
    with single_instance(app), pytest.raises(AlreadyRunning), single_instance(app):
        pass
    with single_instance(app):  # released
        pass
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "sms-dispatch",
        "follow-up-reminders",
        "leader-daily-summary",
        "activity-report-reminders",
        "pending-uploads-expire",
        "privacy-retention",
    }
    assert all(job.coalesce and job.misfire_grace_time for job in jobs.values())
    assert str(scheduler.timezone) == "Asia/Ho_Chi_Minh"


def test_erasing_a_household_erases_its_sms(app, users, homes, sent):
    from outreach.geo.services import erase_household

    services.receive_reply({"From": "+84912345678", "Body": "Cảm ơn", "MessageSid": "SM9"}, now=DAY)
    erase_household(users["leader"], homes["sms"].id, now=DAY)
    db.session.commit()
    row = db.session.get(SmsMessage, sent.id)
    reply = db.session.scalar(sa.select(InboundSms))
    assert (row.to_phone, row.body, row.household_id) == ("", "", None)
    assert (reply.from_phone, reply.body, reply.household_id) == ("", "", None)
