"""Personal data under Law 91/2025: sensitive facts only with consent, retention (counts stay, people go),
rights cases to their deadline, reads on record, the register read back, breaches, and scope."""

import io
import json
import os
import re
import shutil
import subprocess
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from docx import Document

from outreach.activity.figures import visit_figures
from outreach.activity.periods import parse_period
from outreach.audit.models import AuditEvent
from outreach.auth.services import issue_token
from outreach.errors import NotFound, ValidationError
from outreach.extensions import db
from outreach.geo.models import Consent, Household, Purpose
from outreach.geo.services import withdraw_consent
from outreach.planning.services import assign_households
from outreach.privacy import services
from outreach.privacy.models import RightsCase
from outreach.privacy.retention import run_retention
from outreach.sms.models import InboundSms
from outreach.visits.models import AnonymousFact, VisitObstacle, VisitRecord
from outreach.visits.services import record_visit, sync_visits
from tests.conftest import NOW, csrf_token, login, make_household, visit_payload

DAY = timedelta(days=1)
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def homes(users, geo):
    return {
        "an": make_household(users["leader"], geo["tanha_v1"], "Nguyễn Văn An", phone="0912345678"),
        "hoa": make_household(users["leader"], geo["tanha_v1"], "Lê Thị Hoa"),
        "son": make_household(users["leader_other"], geo["minhkhuong_v1"], "Ma Văn Sơn"),
    }


@pytest.fixture
def member_auth(users):
    token = issue_token(users["member"], now=NOW)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _anonymous(code="disability") -> int:
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(AnonymousFact.count), 0)).where(AnonymousFact.code == code)
    )


# --- sensitive facts ---------------------------------------------------------------------------------------------


def test_a_disability_without_consent_is_counted_for_the_village_not_kept_with_the_household(
    client, homes, member_auth
):
    sent = visit_payload(homes["an"], obstacles=["disability", "elderly"])
    answer = client.post("/api/v1/visits/sync", json={"visits": [sent]}, headers=member_auth).get_json()
    result = answer["results"][0]
    assert result["status"] == "created" and "đồng ý" in result["notes"]["obstacles"]  # "consent", in Vietnamese
    visit = db.session.scalar(sa.select(VisitRecord).where(VisitRecord.client_id == sent["client_id"]))
    assert visit.obstacle_codes == ["elderly"]  # the household keeps only the plain obstacle
    assert _anonymous() == 1
    fact = db.session.scalar(sa.select(AnonymousFact))
    assert fact.village_id == homes["an"].village_id and fact.day.isoformat() == "2026-11-26"
    assert _count(Consent, Consent.purpose == Purpose.SENSITIVE) == 0
    # Sent again: nothing changes, not even the anonymous count.
    again = client.post("/api/v1/visits/sync", json={"visits": [sent]}, headers=member_auth).get_json()
    assert again["results"][0]["status"] == "duplicate" and _anonymous() == 1


def test_a_batch_counts_its_disabilities_per_village_and_day_in_one_row_each(client, homes, member_auth):
    """Many facts in one batch (counted together) add to the rows already there and make the missing ones."""
    first = visit_payload(homes["an"], obstacles=["disability"])
    assert client.post("/api/v1/visits/sync", json={"visits": [first]}, headers=member_auth).status_code == 200
    batch = [visit_payload(homes["an"], obstacles=["disability"]) for _ in range(2)]
    batch += [visit_payload(homes["hoa"], obstacles=["disability", "elderly"])]
    batch += [visit_payload(homes["hoa"], obstacles=["disability"], device_time="2026-11-25T09:00:00+07:00")]
    answer = client.post("/api/v1/visits/sync", json={"visits": batch}, headers=member_auth).get_json()
    assert [r["status"] for r in answer["results"]] == ["created"] * 4
    facts = {
        (f.village_id, f.day.isoformat(), f.code): f.count
        for f in db.session.scalars(sa.select(AnonymousFact).execution_options(populate_existing=True))
    }
    village = homes["an"].village_id
    assert facts == {(village, "2026-11-26", "disability"): 4, (village, "2026-11-25", "disability"): 1}
    assert _count(VisitObstacle, VisitObstacle.code == "disability") == 0


def test_a_disability_with_consent_is_kept_and_the_consent_recorded_with_its_text(client, homes, member_auth, users):
    sent = visit_payload(homes["an"], obstacles=["disability"], sensitive_consent=True)
    result = client.post("/api/v1/visits/sync", json={"visits": [sent]}, headers=member_auth).get_json()["results"][0]
    assert result["status"] == "created" and "notes" not in result
    assert _count(VisitObstacle, VisitObstacle.code == "disability") == 1 and _anonymous() == 0
    consent = db.session.scalar(sa.select(Consent).where(Consent.purpose == Purpose.SENSITIVE))
    assert consent.household_id == homes["an"].id and consent.collected_by_id == users["member"].id
    assert "khuyết tật" in consent.text and consent.method == "in_person"
    # A later visit by the web form path (one record) keeps it too: the consent stands until withdrawn.
    later = record_visit(users["leader"], visit_payload(homes["an"], obstacles=["disability"]), now=NOW)
    assert later.status == "created" and not later.notes
    # Withdrawn: the facts leave the household for the village's count.
    withdraw_consent(users["leader"], homes["an"].id, Purpose.SENSITIVE, now=NOW + DAY)
    db.session.commit()
    assert _count(VisitObstacle, VisitObstacle.code == "disability") == 0 and _anonymous() == 2


def test_the_consent_box_is_apart_and_never_ticked_and_members_do_not_see_the_fact(client, homes, users):
    login(client, "member.tanha")
    page = client.get(f"/record?h={homes['an'].id}").get_data(as_text=True)
    box = page[page.index('name="sensitive_consent"') - 60 : page.index('name="sensitive_consent"') + 60]
    assert 'type="checkbox"' in box and "checked" not in box
    sync_visits(
        users["leader"], [visit_payload(homes["an"], obstacles=["disability"], sensitive_consent=True)], now=NOW
    )
    db.session.commit()
    member_view = client.get(f"/households/{homes['an'].id}/visits").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "leader.tanha")
    leader_view = client.get(f"/households/{homes['an'].id}/visits").get_data(as_text=True)
    assert "Khuyết tật" in leader_view and "Khuyết tật" not in member_view


# --- retention ---------------------------------------------------------------------------------------------------


def test_retention_dry_run_says_what_then_the_run_removes_people_and_keeps_counts(app, runner, homes, users):
    old, recent = NOW - 400 * DAY, NOW - 10 * DAY
    for when, household, notes in ((old, homes["an"], "Bác An cần con gái giúp"), (recent, homes["hoa"], "Hẹn lại")):
        sync_visits(
            users["leader"],
            [visit_payload(household, device_time=when.isoformat(), notes=notes, obstacles=["disability"],
                           sensitive_consent=True)],
            now=NOW,
        )  # fmt: skip
    db.session.add(InboundSms(from_phone="+84912345678", body="Cảm ơn", received_at=old, household_id=homes["an"].id))
    db.session.commit()
    months = parse_period("2025-10")
    before = visit_figures(homes["an"].village.parent, months)

    plan = run_retention(now=NOW, dry_run=True)
    db.session.commit()
    assert plan["visit_notes"] == 1 and plan["sensitive_facts"] == 1 and plan["resident_replies"] == 1
    assert _count(VisitRecord, VisitRecord.notes != "") == 2  # a dry run changes nothing
    cli = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert cli.exit_code == 0 and "visit_notes (kept 365 days): would anonymise 1" in cli.output

    done = run_retention(now=NOW)
    db.session.commit()
    assert done == plan
    kept = {v.notes for v in db.session.scalars(sa.select(VisitRecord))}
    assert kept == {"", "Hẹn lại"}  # the old note is gone, the recent one stays
    assert (
        db.session.scalar(sa.select(InboundSms)).body == ""
        and db.session.scalar(sa.select(InboundSms)).from_phone == ""
    )
    assert _count(VisitObstacle, VisitObstacle.code == "disability") == 1 and _anonymous() == 1
    assert _count(VisitRecord) == 2 and _count(InboundSms) == 1  # the rows stay, for the counts
    assert visit_figures(homes["an"].village.parent, months) == before  # the month's figures did not move
    runs = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action.startswith("privacy.retention"))))
    assert [r.action for r in runs].count("privacy.retention") == 1 and runs[-1].detail["counts"]["visit_notes"] == 1
    assert run_retention(now=NOW)["visit_notes"] == 0  # nothing left to do


def test_the_phone_of_a_household_that_withdrew_leaves_the_messages_after_its_time(app, homes, users):
    from outreach.sms.models import SmsMessage

    an = homes["an"]
    db.session.add(
        SmsMessage(commune_id=an.village.parent_id, household_id=an.id, to_phone=an.phone, body="Hướng dẫn cho An",
                   encoding="UCS-2", token="tok1", status="delivered", due_at=NOW - 100 * DAY)
    )  # fmt: skip
    withdraw_consent(users["leader"], an.id, Purpose.STORE_PHONE, now=NOW - 40 * DAY)
    db.session.commit()
    assert run_retention(now=NOW - 20 * DAY, dry_run=True)["withdrawn_phones"] == 0  # not yet past 30 days
    assert run_retention(now=NOW)["withdrawn_phones"] == 1
    message = db.session.scalar(sa.select(SmsMessage))
    assert message.to_phone == "" and message.body == "" and message.household_id == an.id


# --- rights cases ------------------------------------------------------------------------------------------------


def test_a_restriction_takes_effect_runs_to_its_deadline_and_is_answered(app, client, homes, users, member_auth):
    leader, an = users["leader"], homes["an"]
    case = services.open_case(
        leader,
        services.CaseInput(kind="restrict", requester="Nguyễn Văn An", household_id=an.id, received_at=NOW),
        now=NOW,
    )
    db.session.commit()
    assert case.due_at == NOW + timedelta(hours=72) and case.unit_id == an.village.parent_id
    # In effect: hidden from lists, no SMS, no new visit or assignment; the data kept.
    assert an.restricted_at == NOW and not an.may_receive_sms and an.head_name == "Nguyễn Văn An"
    login(client, "leader.tanha")
    assert "Nguyễn Văn An" not in client.get("/households").get_data(as_text=True)
    assert "Lê Thị Hoa" in client.get("/households").get_data(as_text=True)
    refused = client.post("/api/v1/visits/sync", json={"visits": [visit_payload(an)]}, headers=member_auth).get_json()
    assert "không xử lý" in refused["results"][0]["errors"]["household_id"]  # "not be processed"
    with pytest.raises(NotFound):
        assign_households(leader, users["member"].id, [an.id], due_on=NOW.date(), now=NOW)
    db.session.rollback()
    # Within the deadline it is open; past it, it is overdue on the leader's start page and for the province.
    assert services.overdue_count(leader, now=NOW + timedelta(hours=71)) == 0
    late = NOW + timedelta(hours=73)
    assert services.overdue_count(leader, now=late) == 1 and services.overdue_count(users["staff"], now=late) == 1
    assert [c.id for c in services.list_cases(leader, now=late, status="overdue")] == [case.id]
    # Answered (refused): the stop is lifted and the answer kept.
    services.close_case(leader, case.id, status="refused", action_taken="Đã kiểm tra", answer="Đã trả lời", now=late)
    db.session.commit()
    assert an.restricted_at is None and case.status == "refused" and case.closed_at == late
    assert services.overdue_count(leader, now=late) == 0
    closing = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "privacy.case_close"))
    assert closing.detail == {"status": "refused", "late": True}


def test_the_start_page_shows_overdue_requests_and_a_deletion_done_erases(app, client, homes, users):
    leader = users["leader"]
    received = NOW - timedelta(days=10)  # recorded late: the deadline is counted from when it came in
    login(client, "leader.tanha")
    page = client.get(f"/privacy/cases/new?household={homes['hoa'].id}")
    assert page.status_code == 200
    answer = client.post(
        f"/privacy/cases/new?household={homes['hoa'].id}",
        data={"kind": "delete", "requester": "Lê Thị Hoa", "channel": "in_person",
              "received_at": received.astimezone(HANOI).strftime("%Y-%m-%dT%H:%M"), "details": "",
              "csrf_token": csrf_token(client, f"/privacy/cases/new?household={homes['hoa'].id}")},
    )  # fmt: skip
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    assert "quá hạn" in client.get("/").get_data(as_text=True)  # "past its legal deadline" on the start page
    case = db.session.scalar(sa.select(RightsCase))
    services.close_case(leader, case.id, status="done", action_taken="Đã xoá", answer="Dữ liệu đã được xoá", now=NOW)
    db.session.commit()
    hoa = db.session.get(Household, homes["hoa"].id)
    assert hoa.erased_at == NOW and hoa.head_name == ""


def test_a_leader_never_sees_another_communes_cases(client, homes, users):
    mine = services.open_case(
        users["leader"], services.CaseInput(kind="access", requester="An", household_id=homes["an"].id), now=NOW
    )
    db.session.commit()
    other = users["leader_other"]
    assert (
        services.list_cases(other, now=NOW + 10 * DAY) == [] and services.overdue_count(other, now=NOW + 10 * DAY) == 0
    )
    with pytest.raises(NotFound):
        services.get_case(other, mine.id)
    with pytest.raises(ValidationError):  # nor open one about another commune's household
        services.open_case(
            other, services.CaseInput(kind="delete", requester="X", household_id=homes["an"].id), now=NOW
        )
    login(client, "leader.minhkhuong")
    assert client.get(f"/privacy/cases/{mine.id}").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "member.tanha")
    assert client.get("/privacy/cases").status_code == 403


def test_bad_case_input_is_told_by_field_never_a_500(client, homes):
    login(client, "leader.tanha")
    url = f"/privacy/cases/new?household={homes['an'].id}"
    answer = client.post(
        url, data={"kind": "bogus", "requester": "", "channel": "x", "csrf_token": csrf_token(client, url)}
    )
    assert answer.status_code == 400
    assert client.get("/privacy/cases/new?household=999999").status_code == 404


# --- reads on record ---------------------------------------------------------------------------------------------


def test_reads_of_a_household_are_recorded_and_shown_and_exported(client, homes, users):
    an = homes["an"]
    token = issue_token(users["leader"], now=NOW)
    db.session.commit()
    login(client, "member.tanha")
    assert client.get(f"/households/{an.id}").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get(f"/api/v1/households/{an.id}", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    login(client, "leader.tanha")
    page = client.get(f"/households/{an.id}").get_data(as_text=True)
    assert "member.tanha" in page  # the leader sees who viewed it
    exported = json.loads(client.get(f"/households/{an.id}/export?format=json").data)
    reads = [(r["who"], r["what"]) for r in exported["accessed_by"]]
    assert ("member.tanha", "read.household") in reads and ("leader.tanha", "read.api") in reads
    assert ("leader.tanha", "household.export") in reads
    actions = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.target_id == str(an.id))))
    assert {"read.household", "read.api", "household.export"} <= actions
    client.get("/households")
    listed = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "read.list"))
    assert an.id in listed.detail["ids"]  # which households a list showed, to whom


# --- the register ------------------------------------------------------------------------------------------------


def test_the_register_docx_is_filled_from_the_settings(app, client, users):
    app.config["RETENTION_DAYS"] = {**app.config["RETENTION_DAYS"], "visit_notes": 200}
    try:
        login(client, "leader.tanha")
        assert client.get("/privacy/register").status_code == 200
        response = client.get("/privacy/register.docx")
    finally:
        app.config["RETENTION_DAYS"] = {**app.config["RETENTION_DAYS"], "visit_notes": 365}
    assert response.status_code == 200 and response.mimetype.endswith("wordprocessingml.document")
    doc = Document(io.BytesIO(response.data))
    text = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    for words in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "UBND PHƯỜNG TÂN HÀ", "200 ngày", "72 giờ", "Khuyết tật"):
        assert words in text, words


@pytest.mark.skipif(
    not shutil.which("pdftotext") and os.environ.get("CI") != "true",
    reason="pdftotext is not installed (apt-get install poppler-utils)",
)
def test_the_register_pdf_reads_back(client, users, tmp_path):
    login(client, "staff.city")
    response = client.get("/privacy/register.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    pdf = tmp_path / "register.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "72 giờ" in text
    # Section II's table fits its page: every column's header, and the last column's values, are there.
    from flask_babel import force_locale
    from flask_babel import gettext as t

    with force_locale("vi"):
        headers = [t(h) for h in ("No.", "Data", "Purpose", "Legal basis", "Who may see it", "Kept for", "Where")]
        where = t("the commune's or province's server running this app")
    flat = " ".join(text.split())
    for header in headers:
        assert header in flat, header
    assert where in flat and flat.count(" ".join(where.split()[:4])) == 7  # the last column, in every row
    # And no word is drawn past the right edge of its page.
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    for width, words in re.findall(r'<page width="([\d.]+)"[^>]*>(.*?)</page>', boxes, flags=re.S):
        right = max(float(x) for x in re.findall(r'xMax="([\d.]+)"', words))
        assert right <= float(width) - 20, (width, right)


def test_the_register_speaks_of_the_2025_structure_without_districts(client, tq2025):
    from outreach.auth.models import Role
    from tests.conftest import make_user

    make_user("staff.tq", Role.STAFF, tq2025.province)
    make_user("leader.mx", Role.LEADER, tq2025["Phường Minh Xuân"])
    db.session.commit()
    for username in ("staff.tq", "leader.mx"):
        fresh = client.application.test_client()
        login(fresh, username)
        page = fresh.get("/privacy/register").get_data(as_text=True)
        doc = Document(io.BytesIO(fresh.get("/privacy/register.docx").data))
        text = page + "\n".join(p.text for p in doc.paragraphs)
        assert "Cán bộ tỉnh, xã chỉ xem số liệu tổng hợp" in text
        assert "huyện" not in text.lower(), username


# --- breaches ----------------------------------------------------------------------------------------------------


def test_a_breach_counts_its_notification_deadline_and_writes_the_text(client, users):
    login(client, "leader.tanha")
    found = NOW.astimezone(HANOI).strftime("%Y-%m-%dT%H:%M")
    answer = client.post(
        "/privacy/breaches",
        data={"what": "Mất điện thoại có ứng dụng đang đăng nhập", "found_at": found, "people": "120",
              "data_kinds": "Tên, số điện thoại", "actions": "Đã đăng xuất từ xa",
              "csrf_token": csrf_token(client, "/privacy/breaches")},
    )  # fmt: skip
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    from outreach.privacy.models import Breach

    breach = db.session.scalar(sa.select(Breach))
    assert breach.notify_due_at - breach.found_at == timedelta(hours=72) and breach.people == 120
    assert "Mất điện thoại có ứng dụng đang đăng nhập" in page and "120" in page
    text = services.notification_text(breach)
    assert "Phường Tân Hà" in text and "120" in text and "72" in text
    bad = client.post("/privacy/breaches", data={"what": "", "found_at": "x", "people": "-1",
                                                 "csrf_token": csrf_token(client, "/privacy/breaches")})  # fmt: skip
    assert bad.status_code == 400


def test_a_reply_xoa_opens_a_deletion_request_with_its_deadline(app, homes, users):
    from outreach.sms.services import receive_reply

    reply, answer = receive_reply({"From": "+84912345678", "Body": "Xoá", "MessageSid": "SMxoa"}, now=NOW)
    db.session.commit()
    case = db.session.scalar(sa.select(RightsCase))
    assert reply.keyword == "delete" and "72 gio" in answer
    assert case.kind == "delete" and case.channel == "sms" and case.household_id == homes["an"].id
    assert case.due_at == NOW + timedelta(hours=72) and case.created_by_id is None
    assert homes["an"].erased_at is None  # a leader checks who asked, then answers
    assert [c.id for c in services.list_cases(users["leader"], now=NOW)] == [case.id]
    receive_reply({"From": "+84912345678", "Body": "Xoá", "MessageSid": "SMxoa"}, now=NOW)  # Twilio retried
    assert _count(RightsCase) == 1
    _reply, unknown = receive_reply({"From": "+84987654321", "Body": "xoa", "MessageSid": "SMxoa2"}, now=NOW)
    assert "Khong tim thay" in unknown and _count(RightsCase) == 1


def test_a_recorded_disability_goes_through_the_api_only_to_leaders_and_a_member_s_correction_keeps_it(
    client, homes, users, geo
):
    from tests.conftest import make_user

    sent = visit_payload(homes["an"], obstacles=["disability", "elderly"], sensitive_consent=True)
    record_visit(users["member"], sent, now=NOW)
    other = make_user("member2.tanha", users["member"].role, geo["tanha_v1"])
    tokens = {u.username: issue_token(u, now=NOW) for u in (users["member"], other, users["leader"])}
    db.session.commit()

    def obstacles(username, client_id=sent["client_id"]):
        auth = {"Authorization": f"Bearer {tokens[username]}"}
        return client.get(f"/api/v1/visits/{client_id}", headers=auth).get_json()["obstacles"]

    assert obstacles("leader.tanha") == ["disability", "elderly"]
    assert obstacles("member.tanha") == obstacles("member2.tanha") == ["elderly"]
    # The member corrects the record without seeing the disability: it stays with the household.
    fixed = visit_payload(homes["an"], obstacles=["elderly", "no_internet"], supersedes=sent["client_id"])
    assert record_visit(users["member"], fixed, now=NOW).status == "created"
    db.session.commit()
    assert sorted(obstacles("member.tanha", fixed["client_id"])) == ["elderly", "no_internet"]
    assert sorted(obstacles("leader.tanha", fixed["client_id"])) == ["disability", "elderly", "no_internet"]
    assert _anonymous() == 0
    # The household page shows the sensitive consent to leaders only.
    login(client, "member.tanha")
    assert 'id="consent-sensitive_health"' not in client.get(f"/households/{homes['an'].id}").get_data(as_text=True)
    client = client.application.test_client()
    login(client, "leader.tanha")
    assert 'id="consent-sensitive_health"' in client.get(f"/households/{homes['an'].id}").get_data(as_text=True)


def test_a_closed_request_for_help_forgets_the_resident_after_its_time_an_open_one_stays(app, geo, users):
    from outreach.requests import services as requests
    from outreach.requests.models import HelpRequest

    def ask(phone, when):
        data = requests.AskInput(name="Bà Lò Thị Nhung", phone=phone, village_id=geo["tanha_v1"].id, need="vneid1",
                                 preferred_time="morning", note="Nhà cạnh trường", consent=True)  # fmt: skip
        return requests.ask(data, now=when)

    closed, still_open = ask("0987111222", NOW - 400 * DAY), ask("0987333444", NOW - 400 * DAY)
    requests.set_status(users["leader"], closed.id, "cannot_help", now=NOW - 390 * DAY)
    db.session.commit()
    assert run_retention(now=NOW, dry_run=True)["help_requests"] == 1
    assert run_retention(now=NOW)["help_requests"] == 1
    db.session.commit()
    gone, kept = db.session.get(HelpRequest, closed.id), db.session.get(HelpRequest, still_open.id)
    assert (gone.name, gone.phone, gone.note) == ("", None, "") and gone.erased_at is not None
    assert (gone.need, gone.status, gone.village_id) == ("vneid1", "cannot_help", geo["tanha_v1"].id)  # still counted
    assert kept.name == "Bà Lò Thị Nhung" and kept.phone == "+84987333444"  # still being handled
    assert run_retention(now=NOW)["help_requests"] == 0
