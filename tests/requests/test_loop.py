"""The loop for leaders: a request by SMS reply (through a signed webhook), matched or made into a
household with the consent carried, assigned to a member like any household, on the member's Today,
the resident told who will come (through the outbox and the fake Twilio server), closed by the visit;
scope, audit, export and erasure; help at the desk and the figures."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from outreach.audit.models import AuditEvent
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import Purpose
from outreach.geo.services import erase_household, export_household
from outreach.planning.services import CampaignInput, save_campaign
from outreach.requests import services
from outreach.requests.models import DeskHelp, HelpRequest
from outreach.sms.dispatcher import dispatch_once
from outreach.sms.models import InboundSms, SmsMessage, Status
from outreach.visits.services import record_visit, sync_visits
from tests.conftest import NOW, csrf_token, login, visit_payload
from tests.sms.conftest import DAY, fake_twilio, gateway  # noqa: F401 - fixtures
from tests.sms.test_webhooks_and_pages import signed_post


def _fresh(model=HelpRequest):
    db.session.rollback()
    return list(db.session.scalars(sa.select(model).order_by(model.id)))


def _ask(geo, phone="0987111222", **fields) -> HelpRequest:
    data = services.AskInput(
        fields.pop("name", "Lò Thị Mai"), phone, fields.pop("village_id", geo["tanha_v1"].id), "vneid1",
        fields.pop("preferred_time", "afternoon"), consent=True, token=fields.pop("token", ""),
    )  # fmt: skip
    request = services.ask(data, now=fields.pop("now", NOW))
    db.session.commit()
    return request


# --- by SMS ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["GIUP", "giúp", "Giúp!", "CAN GIUP", "cần giúp", "HO TRO", "hỗ trợ"])
def test_an_sms_reply_asks_for_a_visit_and_gets_one_answer_through_the_outbox(client, app, users, known, body):
    response = signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": body, "MessageSid": "SM1"})
    assert response.status_code == 200 and "<Message>" not in response.get_data(as_text=True)
    [request] = _fresh()
    assert request.household_id == known.id and request.source == "sms" and request.status == "new"
    assert request.commune_id == known.village.parent_id and request.phone == "+84912345678"
    assert request.consent_channel == "sms_reply" and body in request.consent_text
    [message] = _fresh(SmsMessage)
    assert message.kind == "request" and message.to_phone == "+84912345678" and message.status == Status.QUEUED
    assert message.body == services.ACK_TEXT and request.ack_message_id == message.id
    assert db.session.scalar(sa.select(InboundSms.keyword)) == "ask"
    # Asking again adds to the open request: no second request, no second SMS; a retried webhook nothing.
    signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "can giup", "MessageSid": "SM2"})
    signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "can giup", "MessageSid": "SM2"})
    [request] = _fresh()
    assert request.asks == 2 and len(_fresh(SmsMessage)) == 1


def test_help_and_the_opt_out_words_keep_their_meaning(client, app, users, known):
    help_ = signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "HELP", "MessageSid": "SM1"})
    assert "<Message>" in help_.get_data(as_text=True)
    signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "TU CHOI", "MessageSid": "SM2"})
    assert _fresh() == []
    # Opted out, a request is still taken, but no SMS goes to the number.
    signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "GIUP", "MessageSid": "SM3"})
    assert len(_fresh()) == 1 and _fresh(SmsMessage) == []


def test_a_number_nobody_knows_gets_the_same_words_and_no_request(client, app, users, known):
    response = signed_post(client, app, "/sms/inbound", {"From": "+84977000111", "Body": "GIUP", "MessageSid": "SM1"})
    assert services.ACK_TEXT in response.get_data(as_text=True)
    assert _fresh() == [] and _fresh(SmsMessage) == []


def test_the_answer_waits_for_the_end_of_the_quiet_hours(client, app, users, known):
    request = services.ask_by_sms(
        InboundSms(from_phone=known.phone, body="GIUP"),
        household=known,
        now=DAY.replace(hour=15),  # 22:00 local
    )
    assert request == ""
    db.session.commit()
    [message] = _fresh(SmsMessage)
    assert message.due_at > DAY.replace(hour=15)


# --- the leader ------------------------------------------------------------------------------


def test_leaders_see_only_their_communes_requests_and_staff_see_counts(client, app, geo, users):
    mine = _ask(geo)
    other = _ask(geo, phone="0977000111", village_id=geo["minhkhuong_v1"].id)
    login(client, "leader.tanha")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/requests?status=new"' in home and "1 người dân xin hỗ trợ" in home
    page = client.get("/requests").get_data(as_text=True)
    assert "Lò Thị Mai" in page and f"/requests/{other.id}" not in page
    assert client.get(f"/requests/{mine.id}").status_code == 200
    assert client.get(f"/requests/{other.id}").status_code == 404
    token = csrf_token(client, f"/requests/{mine.id}")
    assert client.post(f"/requests/{other.id}/status", data={"status": "spam", "csrf_token": token}).status_code == 404
    assert client.post(f"/requests/{other.id}/erase", data={"csrf_token": token}).status_code == 404
    client.post("/logout", data={"csrf_token": token})
    for who in ("member.tanha", "staff.city"):
        other_client = app.test_client()
        login(other_client, who)
        assert other_client.get("/requests").status_code in (403, 404)
        assert other_client.get(f"/requests/{mine.id}").status_code in (403, 404)
    # Staff see the counts, on the impact page of their area.
    staff = app.test_client()
    login(staff, "staff.city")
    impact = staff.get(f"/reports/units/{geo['city'].id}/impact").get_data(as_text=True)
    assert 'id="help-requests"' in impact and "Lò Thị Mai" not in impact


def test_the_whole_loop(client, app, geo, users, gateway, fake_twilio):  # noqa: F811
    leader, member = users["leader"], users["member"]
    request = _ask(geo)
    # No household has this number: the leader makes one from the request, its consent carried.
    household = services.household_from_request(leader, request.id, now=NOW)
    db.session.commit()
    assert household.phone == "+84987111222" and household.village_id == geo["tanha_v1"].id
    [consent] = household.consents
    assert consent.purpose == Purpose.STORE_PHONE and consent.text == services.FORM_CONSENT_TEXT
    assert consent.collected_at == request.consent_at and consent.method == "help_form"
    # Assigned like any household; the same assignment sent twice changes nothing.
    day = date(2026, 11, 27)
    for _ in range(2):
        services.assign_request(leader, request.id, member.id, due_on=day, now=NOW)
        db.session.commit()
    [request] = _fresh()
    assert request.status == "assigned" and request.member_id == member.id and request.due_on == day
    [notice] = _fresh(SmsMessage)
    assert notice.kind == "request" and "thành viên Member.Tanha sẽ đến" in notice.body and "buổi chiều" in notice.body
    assert "27/11" in notice.body
    # On the member's Today (from the planned day).
    login(client, "member.tanha")
    today = client.get("/today").get_data(as_text=True)
    assert "Đã xin hỗ trợ: buổi chiều" in today
    # The message goes out through the gateway (the fake Twilio server).
    dispatch_once(gateway, clock=lambda: NOW)
    assert any("sẽ đến" in r["form"].get("Body", "") for r in fake_twilio.requests)
    # The member's visit closes the request.
    result = sync_visits(member, [visit_payload(household)], now=NOW + timedelta(days=1))
    db.session.commit()
    assert result[0].status == "created"
    [request] = _fresh()
    assert request.status == "done" and request.visit_id == result[0].visit_id and request.closed_at is not None
    actions = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target_type == "HelpRequest")))
    assert {"request.household", "request.assign", "request.status"} <= actions
    figures = services.help_figures(geo["tanha"])
    assert (figures.received, figures.answered) == (1, 1) and figures.median_hours is not None
    assert figures.by_member[0]["answered"] == 1 and figures.by_village[0]["received"] == 1
    # The campaign's page shows them (planning sits below requests: through the template include).
    campaign = save_campaign(
        leader, geo["tanha"], CampaignInput("Gõ cửa", date(2026, 11, 1), date(2026, 12, 31), [geo["tanha_v1"].id]),
        now=NOW,
    )  # fmt: skip
    db.session.commit()
    leader_client = app.test_client()
    login(leader_client, "leader.tanha")
    progress = leader_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="help-requests"' in progress and "Member.Tanha" in progress


def test_a_visit_where_nobody_was_home_leaves_the_request_open(app, geo, users, known):
    request = _ask(geo, phone=known.phone)
    services.link_household(users["leader"], request.id, known.id, now=NOW)
    db.session.commit()
    record_visit(users["member"], visit_payload(known, outcome="nobody_home"), now=NOW)
    db.session.commit()
    assert _fresh()[0].status == "new"
    record_visit(users["member"], visit_payload(known), now=NOW)
    db.session.commit()
    assert _fresh()[0].status == "done"


def test_status_changes_are_audited_and_a_closed_request_is_not_assigned(app, client, geo, users, known):
    request = _ask(geo)
    services.set_status(users["leader"], request.id, "spam", now=NOW)
    services.set_status(users["leader"], request.id, "spam", now=NOW)  # twice: one event
    db.session.commit()
    events = _fresh(AuditEvent)
    assert [(e.action, e.detail) for e in events] == [("request.status", {"status": "spam", "previous": "new"})]
    login(client, "admin")
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "Yêu cầu hỗ trợ: đổi trạng thái" in audit and "trạng thái: Rác" in audit
    services.link_household(users["leader"], request.id, known.id, now=NOW)
    with pytest.raises(ValidationError):
        services.assign_request(users["leader"], request.id, users["member"].id, due_on=date(2026, 11, 27), now=NOW)


def test_leader_pages_work_without_a_script(client, app, geo, users, known):
    request = _ask(geo, phone=known.phone)
    login(client, "leader.tanha")
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert known.head_name in page  # the household with the same phone is offered
    token = csrf_token(client, f"/requests/{request.id}")
    client.post(f"/requests/{request.id}/household", data={"csrf_token": token, "household_id": known.id})
    bad = client.post(
        f"/requests/{request.id}/assign", data={"csrf_token": token, "member_id": "x", "due_on": "31/31/2026"}
    )
    assert bad.status_code == 400
    ok = client.post(
        f"/requests/{request.id}/assign",
        data={"csrf_token": token, "member_id": users["member"].id, "due_on": "2026-12-01"},
    )
    assert ok.status_code == 303
    assert _fresh()[0].status == "assigned"


# --- personal data ---------------------------------------------------------------------------


def test_export_and_erasure_cover_requests(app, geo, users, known, client):
    signed_post(client, app, "/sms/inbound", {"From": "+84912345678", "Body": "GIUP", "MessageSid": "SM1"})
    db.session.rollback()
    exported = export_household(users["leader"], known.id, now=NOW)
    assert exported["help_requests"][0]["source"] == "sms" and exported["help_requests"][0]["phone"] == known.phone
    erase_household(users["leader"], known.id, now=NOW)
    db.session.commit()
    [request] = _fresh()
    assert (request.name, request.phone, request.erased_at is not None) == ("", None, True)
    [message] = _fresh(SmsMessage)
    assert (message.to_phone, message.body, message.status) == ("", "", Status.CANCELLED)


def test_a_request_without_a_household_can_be_erased(app, geo, users):
    request = _ask(geo)
    services.erase_request(users["leader"], request.id, now=NOW)
    db.session.commit()
    [request] = _fresh()
    assert request.phone is None and request.name == "" and request.erased_at is not None
    assert services.help_figures(geo["tanha"]).received == 1  # still counted


# --- help at the desk ------------------------------------------------------------------------


def test_desk_help_in_a_few_taps_stored_once_and_counted(client, app, geo, users, known):
    login(client, "member.tanha")
    page = client.get("/desk").get_data(as_text=True)
    client_id = re.search(r'name="client_id"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="client_id"', page)
    client_id = next(g for g in client_id.groups() if g)
    data = {
        "csrf_token": csrf_token(client, "/desk"), "client_id": client_id, "done": ["vneid_installed", "vneid_level1"],
        "people": "3", "obstacles": ["elderly"], "household_id": str(known.id),
    }  # fmt: skip
    for _ in range(2):
        assert client.post("/desk", data=data).status_code == 303
    [row] = _fresh(DeskHelp)
    assert (row.people, row.done, row.obstacles, row.household_id) == (
        3, ["vneid_installed", "vneid_level1"], ["elderly"], known.id,
    )  # fmt: skip
    assert client.post("/desk", data=data | {"client_id": "other", "people": "0"}).status_code == 400
    assert client.post("/desk", data=data | {"client_id": "other2", "done": []}).status_code == 400
    figures = services.help_figures(geo["tanha"])
    assert (figures.desk_records, figures.desk_people) == (1, 3)
    assert services.help_figures(geo["minhkhuong"]).desk_people == 0


def test_a_disability_ticked_at_the_desk_is_counted_for_the_village_never_kept_with_the_household(
    client, app, geo, users, known
):
    from outreach.visits.models import AnonymousFact

    login(client, "member.tanha")
    page = client.get("/desk").get_data(as_text=True)
    assert "Ghi lại</button>" in page and "Bản ghi</button>" not in page
    assert "Mã hộ (số trên trang của hộ" in page
    data = {
        "csrf_token": csrf_token(client, "/desk"), "client_id": "desk-disability", "done": ["vneid_installed"],
        "people": "1", "obstacles": ["disability", "elderly"], "household_id": str(known.id),
    }  # fmt: skip
    response = client.post("/desk", data=data, follow_redirects=True)
    assert "đếm ẩn danh" in response.get_data(as_text=True)
    [row] = _fresh(DeskHelp)
    assert (row.household_id, row.obstacles) == (known.id, ["elderly"])
    [fact] = db.session.scalars(sa.select(AnonymousFact)).all()
    assert (fact.village_id, fact.code, fact.count) == (known.village_id, "disability", 1)
    # Without a household nothing is linked to anyone: kept as ticked, nothing more counted.
    client.post("/desk", data=data | {"client_id": "desk-anonymous", "household_id": ""})
    assert _fresh(DeskHelp)[1].obstacles == ["disability", "elderly"]
    assert db.session.scalar(sa.select(sa.func.sum(AnonymousFact.count))) == 1


def test_odd_numbers_get_messages_not_errors(client, app, geo, users):
    login(client, "member.tanha")
    token = csrf_token(client, "/desk")
    huge = "99999999999999999999"
    response = client.post(
        "/desk", data={"csrf_token": token, "client_id": "x", "done": ["vneid_installed"], "household_id": huge}
    )
    assert response.status_code == 400
    assert client.post("/desk", data={"csrf_token": token, "client_id": "y", "done": ["nothing"]}).status_code == 400
    assert client.get(f"/requests/{huge}").status_code in (403, 404)
    assert client.get("/help?unit=%00&q=%00").status_code == 400  # refused with a message, as every page
    assert client.get("/help?unit=x" + "9" * 300 + "&q=" + "a" * 300).status_code == 200
    request = _ask(geo)
    leader = app.test_client()
    login(leader, "leader.tanha")
    token = csrf_token(leader, f"/requests/{request.id}")
    linked = leader.post(f"/requests/{request.id}/household", data={"csrf_token": token, "household_id": huge})
    assert linked.status_code == 404
    assign = {"csrf_token": token, "member_id": huge, "due_on": "2026-12-01"}
    assert leader.post(f"/requests/{request.id}/assign", data=assign).status_code == 400


def test_assigning_waits_for_a_household_and_a_time_of_day_not_yet_past(client, app, geo, users, known):
    from datetime import UTC, datetime

    request = _ask(geo, phone=known.phone)  # prefers the afternoon
    login(client, "leader.tanha")
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert f"/requests/{request.id}/assign" not in page and 'id="assign-first-link"' in page
    assert 'class="facts stack"' in page  # label above value on a phone
    token = csrf_token(client, f"/requests/{request.id}")
    client.post(f"/requests/{request.id}/household", data={"csrf_token": token, "household_id": known.id})
    page = client.get(f"/requests/{request.id}").get_data(as_text=True)
    assert f"/requests/{request.id}/assign" in page and 'id="assign-first-link"' not in page
    # 19:56 in Hà Nội: this afternoon is over, the form proposes tomorrow and today is refused.
    evening = datetime(2026, 11, 29, 12, 56, tzinfo=UTC)
    [request] = _fresh()
    assert services.first_visit_day(request, evening) == date(2026, 11, 30)
    assert services.first_visit_day(request, datetime(2026, 11, 29, 3, 0, tzinfo=UTC)) == date(2026, 11, 29)
    with pytest.raises(ValidationError) as refused:
        services.assign_request(users["leader"], request.id, users["member"].id, due_on=date(2026, 11, 29), now=evening)
    assert "buổi chiều" in refused.value.errors["due_on"][0]
    done = services.assign_request(
        users["leader"], request.id, users["member"].id, due_on=date(2026, 11, 30), now=evening
    )
    assert done.due_on == date(2026, 11, 30)


# --- an assignment that ends without a visit --------------------------------------------------------


def _assigned(geo, users, known) -> HelpRequest:
    request = _ask(geo, phone=known.phone)
    services.link_household(users["leader"], request.id, known.id, now=NOW)
    services.assign_request(users["leader"], request.id, users["member"].id, due_on=date(2026, 11, 28), now=NOW)
    db.session.commit()
    assert _fresh()[0].status == "assigned"
    return request


def test_a_request_taken_back_from_its_member_is_new_again(app, client, geo, users, known):
    from outreach.planning.services import unassign

    _assigned(geo, users, known)
    assert unassign(users["leader"], [known.id], now=NOW) == 1
    db.session.commit()
    [request] = _fresh()
    assert (request.status, request.member_id, request.due_on, request.assignment_id) == ("new", None, None, None)
    event = _fresh(AuditEvent)[-1]
    assert (event.action, event.detail) == (
        "request.status",
        {"status": "new", "previous": "assigned", "why": "cancelled"},
    )
    login(client, "admin")
    assert "vì: lãnh đạo đã rút lại việc giao" in client.get("/admin/audit").get_data(as_text=True)
    # The leader assigns it again, as any new request (and the resident is told then).
    services.assign_request(users["leader"], request.id, users["member"].id, due_on=date(2026, 11, 30), now=NOW)
    db.session.commit()
    assert _fresh()[0].status == "assigned"


def test_a_request_follows_its_household_given_to_another_member(app, geo, users, known):
    from outreach.auth.models import Role
    from outreach.planning.models import Assignment
    from outreach.planning.services import assign_households
    from tests.conftest import make_user

    other = make_user("member2.tanha", Role.MEMBER, geo["tanha_v1"])
    _assigned(geo, users, known)
    result = assign_households(users["leader"], other.id, [known.id], due_on=date(2026, 12, 2), now=NOW, reassign=True)
    assert result.reassigned == [known.id]
    db.session.commit()
    [request] = _fresh()
    assert (request.status, request.member_id, request.due_on) == ("assigned", other.id, date(2026, 12, 2))
    assert db.session.get(Assignment, request.assignment_id).member_id == other.id


def test_a_request_whose_member_moved_away_is_new_again(app, geo, users, known):
    from outreach.auth.services import change_user

    _assigned(geo, users, known)
    change_user(users["leader"], users["member"].id, role="member", unit=geo["minhkhuong_v1"], active=True, now=NOW)
    db.session.commit()
    assert _fresh()[0].status == "new"


def test_a_request_given_to_another_member_from_its_page_is_audited_once(app, geo, users, known):
    from outreach.auth.models import Role
    from tests.conftest import make_user

    other = make_user("member2.tanha", Role.MEMBER, geo["tanha_v1"])
    request = _assigned(geo, users, known)
    services.assign_request(users["leader"], request.id, other.id, due_on=date(2026, 12, 2), now=NOW)
    db.session.commit()
    assert [e.detail["member"] for e in _fresh(AuditEvent) if e.action == "request.assign"] == [
        users["member"].id,
        other.id,
    ]
    assert _fresh()[0].member_id == other.id
