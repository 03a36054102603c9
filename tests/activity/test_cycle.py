"""The monthly cycle up the chain, through the pages: a commune's leader submits, district staff return
with a comment, the leader corrects and submits again, district staff approve; the district's report
adds up its approved communes and goes to the province, which approves it. Totals checked by hand
(the ``month`` fixture). Then the 2025 shape, where the province sees its communes directly."""

import re

import sqlalchemy as sa

from outreach.activity.models import ActivityReport, ActivityReportEvent, ReportStatus
from outreach.activity.periods import parse_period
from outreach.activity.services import report_view, submit_report
from outreach.auth.models import Role
from outreach.errors import Forbidden, ValidationError
from outreach.extensions import db
from outreach.geo.models import Level
from outreach.visits.services import record_visit
from tests.activity.conftest import PERIOD, visit
from tests.conftest import NOW, csrf_token, login, make_household, make_unit, make_user, visit_payload


def as_user(client, username):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, username)


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def write(client, unit_id, action, went_well="", blocked=""):
    url = f"/activity/units/{unit_id}?period={PERIOD}"
    return client.post(
        f"/activity/units/{unit_id}/report?period={PERIOD}",
        data={"csrf_token": csrf_token(client, url), "went_well": went_well, "blocked": blocked, "action": action},
    )


def review(client, report_id, action, comment=""):
    return client.post(
        f"/activity/reports/{report_id}/review",
        data={"csrf_token": csrf_token(client, "/"), "action": action, "comment": comment},
    )


def report_of(unit) -> ActivityReport:
    db.session.rollback()
    return db.session.scalar(sa.select(ActivityReport).where(ActivityReport.unit_id == unit.id))


def figure(html: str, key: str) -> str:
    match = re.search(rf'data-figure="{re.escape(key)}">([^<]*)<', html)
    assert match, key
    return match.group(1)


def test_submit_return_resubmit_approve_at_two_levels(client, geo, people, month):
    tanha, doican, city, province = geo["tanha"], geo["doican"], geo["city"], geo["province"]

    # The leader reviews the figures the app counted, writes a note and submits.
    login(client, "leader.tanha")
    html = page(client, f"/activity/units/{tanha.id}?period={PERIOD}")
    assert figure(html, "people_helped") == "5" and figure(html, "households_reached") == "2"
    assert "450 / 1.000 = 45,00%" in html and "35,00 điểm phần trăm" in html  # the gap to 80%
    assert write(client, tanha.id, "save", "Xong thôn Phú Bình").status_code == 302
    assert report_of(tanha).status == ReportStatus.DRAFT and report_of(tanha).went_well == "Xong thôn Phú Bình"
    assert write(client, tanha.id, "submit", "Xong thôn Phú Bình", "Thiếu điện thoại").status_code == 302
    report = report_of(tanha)
    assert (report.status, report.number, report.snapshot["figures"]["people_helped"]) == ("submitted", 1, 5)
    # Submitted: no more editing until the level above returns it.
    assert write(client, tanha.id, "submit").status_code == 302
    assert len(report_of(tanha).events) == 1

    # The leader may not approve, the Minh Khương leader may not even see it.
    assert review(client, report.id, "approve").status_code == 403
    as_user(client, "leader.minhkhuong")
    assert client.get(f"/activity/units/{tanha.id}?period={PERIOD}").status_code == 404

    # District staff return it with a comment (a comment is needed to return).
    as_user(client, "staff.city")
    html = page(client, f"/activity/units/{city.id}?period={PERIOD}")
    assert "Phường Tân Hà" in html and "chờ duyệt" in html.lower()
    # From the start page's notice, only what waits for them: Tân Hà, not Đội Cấn (not submitted).
    waiting = page(client, f"/activity/units/{city.id}?period={PERIOD}&show=waiting")
    assert "Phường Tân Hà" in waiting and "Phường Đội Cấn" not in waiting and "Chờ duyệt (1)" in waiting
    assert "show=waiting" in page(client, "/")
    review(client, report.id, "return")
    assert report_of(tanha).status == ReportStatus.SUBMITTED
    review(client, report.id, "return", "Thiếu số liệu thôn Tân Hà")
    assert report_of(tanha).status == ReportStatus.RETURNED

    # The leader sees why on the start page, corrects (one more household helped) and submits again.
    as_user(client, "leader.tanha")
    assert "Thiếu số liệu thôn Tân Hà" in page(client, "/")
    visit(people["leader"], month["h2"], people_helped=1, vneid_level1=True)
    write(client, tanha.id, "submit", "Xong cả hai thôn", "Thiếu điện thoại")
    report = report_of(tanha)
    assert (report.status, report.number, report.snapshot["figures"]["people_helped"]) == ("submitted", 1, 6)
    assert report.snapshot["figures"]["households_tried_only"] == 0  # Trần Thị Bình was met after all
    assert [e.action for e in report.events] == ["submitted", "returned", "submitted"]

    # District staff approve it; Đội Cấn's leader submits and it is approved too.
    as_user(client, "staff.city")
    review(client, report.id, "approve")
    assert report_of(tanha).status == ReportStatus.APPROVED
    as_user(client, "leader.doican")
    write(client, doican.id, "submit", "Đủ")
    as_user(client, "staff.city")
    review(client, report_of(doican).id, "approve")

    # The district's report adds up its two approved communes: by hand, 6 + 4 people helped,
    # 3 + 1 households reached, 450 + 100 of 1.000 + 500 dossiers online.
    html = page(client, f"/activity/units/{city.id}?period={PERIOD}")
    assert figure(html, "people_helped") == "10" and figure(html, "households_reached") == "4"
    assert figure(html, "vneid_level1") == "3"
    assert "550 / 1.500 = 36,67%" in html and 'id="missing"' not in html
    write(client, city.id, "submit", "Hai phường đã báo cáo")
    district = report_of(city)
    assert district.status == ReportStatus.SUBMITTED
    assert district.snapshot["figures"]["people_helped"] == 10
    assert [p["name"] for p in district.snapshot["parts"]] == ["Phường Đội Cấn", "Phường Tân Hà"]
    # District staff cannot approve their own district's report.
    assert review(client, district.id, "approve").status_code == 403

    # The province sees its districts the same way: the city submitted, Hàm Yên missing.
    as_user(client, "staff.province")
    html = page(client, f"/activity/units/{province.id}?period={PERIOD}")
    assert "Huyện Hàm Yên" in html and 'id="missing"' in html
    assert figure(html, "people_helped") == "0"  # nothing approved yet
    review(client, district.id, "approve")
    html = page(client, f"/activity/units/{province.id}?period={PERIOD}")
    assert figure(html, "people_helped") == "10" and "550 / 1.500 = 36,67%" in html
    missing = html.split('id="missing"')[1].split("</p>")[0]
    assert "Huyện Hàm Yên" in missing and "Thành phố Tuyên Quang" not in missing
    statuses = db.session.scalars(sa.select(ActivityReport.status).order_by(ActivityReport.id)).all()
    assert statuses == ["approved", "approved", "approved"]


def test_a_correction_after_approval_shows_as_changed_never_silently(client, geo, people, month):
    leader, staff = people["leader"], people["staff"]
    november = parse_period(PERIOD)
    report = submit_report(leader, geo["tanha"], november, went_well="", blocked="", today=NOW.date(), now=NOW)
    db.session.commit()
    from outreach.activity.services import approve_report

    approve_report(staff, report.id, now=NOW)
    db.session.commit()
    # A member corrects their visit: 3 people helped becomes 4 (the age bands follow).
    first = db.session.scalar(
        sa.select(sa.text("client_id")).select_from(sa.table("visit_record")).where(sa.text("people_helped = 3"))
    )
    correction = visit_payload(
        month["h1"], supersedes=first, people_helped=4, helped_under_30=2, helped_60_plus=2, vneid_level1=True,
        procedure_submitted=True, procedure="Đăng ký khai sinh", guide_given="printed", obstacles=["elderly"],
    )  # fmt: skip
    assert record_visit(people["member"], correction, now=NOW).status == "created"
    db.session.commit()
    view = report_view(staff, geo["tanha"], november)
    assert view.shown["people_helped"] == 5  # the report stands as submitted
    assert {(c.key, c.before, c.after) for c in view.changes} >= {
        ("people_helped", 5, 6),
        ("obstacle.no_smartphone", 1, 0),
    }
    login(client, "staff.city")
    html = page(client, f"/activity/units/{geo['tanha'].id}?period={PERIOD}")
    assert 'id="changed"' in html and "+1" in html and figure(html, "people_helped") == "5"


def test_who_may_do_what(geo, people, month):
    november = parse_period(PERIOD)
    leader, member, other = people["leader"], people["member"], people["leader_other"]
    for actor in (member, other, people["staff"]):
        try:
            submit_report(actor, geo["tanha"], november, went_well="", blocked="", today=NOW.date(), now=NOW)
        except Forbidden:
            pass
        else:
            raise AssertionError(f"{actor.username} submitted Tân Hà's report")
    december = parse_period("2026-12")
    try:
        submit_report(leader, geo["tanha"], december, went_well="", blocked="", today=NOW.date(), now=NOW)
    except ValidationError as exc:
        assert "period" in exc.errors
    else:
        raise AssertionError("a month not begun was submitted")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(ActivityReportEvent.id))) == 0


def test_on_the_2025_structure_the_province_sees_its_communes_directly(client, app):
    province = make_unit(Level.PROVINCE, "08", "Tỉnh Tuyên Quang", dataset="2025")
    minhxuan = make_unit(Level.COMMUNE, "02185", "Phường Minh Xuân", province, dataset="2025")
    make_unit(Level.COMMUNE, "02200", "Xã Trung Môn", province, dataset="2025")
    village = make_unit(Level.VILLAGE, "02185-001", "Thôn Ỷ La", minhxuan, dataset="2025")
    db.session.commit()
    leader = make_user("lanhdao.minhxuan", Role.LEADER, minhxuan)
    make_user("canbo.tinh", Role.STAFF, province)
    household = make_household(leader, village, "Hoàng Văn Em")
    visit(leader, household, people_helped=2)

    login(client, "lanhdao.minhxuan")
    write(client, minhxuan.id, "submit", "Tốt")
    report = report_of(minhxuan)
    assert report.status == ReportStatus.SUBMITTED
    as_user(client, "canbo.tinh")
    html = page(client, f"/activity/units/{province.id}?period={PERIOD}")
    assert "Phường Minh Xuân" in html and "Xã Trung Môn" in html  # communes, no districts
    review(client, report.id, "approve")
    html = page(client, f"/activity/units/{province.id}?period={PERIOD}")
    assert figure(html, "people_helped") == "2"
    missing = html.split('id="missing"')[1].split("</p>")[0]
    assert "Xã Trung Môn" in missing and "Minh Xuân" not in missing
