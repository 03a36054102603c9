"""Dates are accepted only in a sane range: from 2015-01-01 (before any team) to tomorrow where the
teams are, or up to a year ahead for what is planned (a follow-up, a campaign, an assignment). A date
in year 1 was stored once, after which history pages and reports answered 500 for good: a row
already stored with an absurd date must not break any page either."""

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from outreach.auth.models import Role
from outreach.clock import EARLIEST_DAY, local_today
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.planning.models import Assignment, Campaign
from outreach.planning.services import CampaignInput, assign_households, save_campaign
from outreach.reports import services as reports
from outreach.reports.imports import import_statistics
from outreach.reports.models import SubmissionStat
from outreach.visits.checks import check_visit
from outreach.visits.models import VisitRecord
from tests.conftest import NOW, csrf_token, login, make_household, make_user, visit_payload
from tests.reports.conftest import csv_file

TODAY = local_today(NOW)  # 2026-11-26 in Asia/Ho_Chi_Minh
UUID = "6f1c2a4e-0d7b-4c1e-9a53-2b8f0e1d4c77"


def _visit(**fields) -> dict:
    return (
        {"client_id": UUID, "household_id": 1, "device_time": "2026-11-26T09:30:00+07:00", "outcome": "helped"}
        | {"people_helped": 1}
        | fields
    )


def _errors(app, record: dict) -> dict:
    with app.test_request_context():
        return check_visit(record, NOW)[1]


def test_the_earliest_day_is_2015():
    assert date(2015, 1, 1) == EARLIEST_DAY


@pytest.mark.parametrize(
    "device_time",
    [
        "2015-01-01T00:00:00+07:00",  # the first moment of the range where the teams are
        "2026-11-26T09:30:00+07:00",
        "2026-11-27T23:59:59+07:00",  # tomorrow, local time: a phone's clock a little ahead
        "2026-11-27T16:59:59+00:00",
    ],
)
def test_a_visit_time_from_2015_to_tomorrow_is_accepted(app, device_time):
    assert "device_time" not in _errors(app, _visit(device_time=device_time))


@pytest.mark.parametrize(
    "device_time",
    [
        "0001-01-01T00:00:00+00:00",
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC: must not crash converting it
        "1970-01-01T00:00:00Z",  # a phone whose clock was reset
        "2014-12-31T23:59:59+07:00",
        "2026-11-28T00:00:00+07:00",  # the day after tomorrow
        "2099-01-01T00:00:00+07:00",
        "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
    ],
)
def test_a_visit_time_outside_the_range_is_refused_with_a_message(app, device_time):
    errors = _errors(app, _visit(device_time=device_time))
    assert set(errors) == {"device_time"} and errors["device_time"].strip()


@pytest.mark.parametrize("day", ["2026-11-26", "2027-11-26"])
def test_a_follow_up_up_to_a_year_ahead_is_accepted(app, day):
    assert _errors(app, _visit(outcome="follow_up", people_helped=0, follow_up_on=day)) == {}


@pytest.mark.parametrize("day", ["0001-01-01", "2014-12-31", "2027-11-28", "2100-01-01", "9999-12-31"])
def test_a_follow_up_before_2015_or_beyond_a_year_is_refused(app, day):
    # Before the visit, or too far ahead: either way told on the follow-up date.
    errors = _errors(app, _visit(outcome="follow_up", people_helped=0, follow_up_on=day))
    assert set(errors) == {"follow_up_on"}


def test_the_phone_is_told_the_range_in_vietnamese(client, users, geo):
    from outreach.auth.services import issue_token

    home = make_household(users["leader"], geo["tanha_v1"])
    token = issue_token(users["member"], now=NOW)
    db.session.commit()
    batch = [visit_payload(home, device_time="0001-01-01T00:00:00+00:00"), visit_payload(home)]
    response = client.post("/api/v1/visits/sync", json={"visits": batch}, headers={"Authorization": f"Bearer {token}"})
    refused, stored = response.get_json()["results"]
    assert (refused["status"], stored["status"]) == ("rejected", "created")
    assert refused["errors"]["device_time"].startswith("một ngày từ 01/01/2015 đến ")


# --- campaigns and assignments -----------------------------------------------------------------------------


def _campaign(geo, starts_on, ends_on) -> CampaignInput:
    return CampaignInput("Mọi nhà", starts_on, ends_on, [geo["tanha_v1"].id])


@pytest.mark.parametrize(
    "starts_on, ends_on, field",
    [
        (date(1, 1, 1), date(2026, 12, 31), "starts_on"),
        (date(2014, 12, 31), date(2026, 12, 31), "starts_on"),
        (date(2026, 11, 1), date(9999, 12, 31), "ends_on"),
        (date(2026, 11, 1), date(2027, 11, 28), "ends_on"),  # more than a year ahead
        (date(2028, 1, 1), date(2028, 2, 1), "starts_on"),
    ],
)
def test_a_campaign_outside_2015_to_a_year_ahead_is_refused(app, users, geo, starts_on, ends_on, field):
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        save_campaign(users["leader"], geo["tanha"], _campaign(geo, starts_on, ends_on), now=NOW)
    assert field in refused.value.errors


def test_a_campaign_from_2015_to_a_year_ahead_is_saved(app, users, geo):
    with app.test_request_context():
        saved = save_campaign(users["leader"], geo["tanha"], _campaign(geo, EARLIEST_DAY, date(2027, 11, 26)), now=NOW)
    assert saved.ends_on == date(2027, 11, 26)


def test_the_campaign_form_shows_the_range_instead_of_failing(client, users, geo):
    login(client, "leader.tanha")
    for starts_on in ("0001-01-01", "1900-01-01", "0000-01-01", "9999-12-31"):
        response = client.post(
            "/campaigns",
            data={
                "csrf_token": csrf_token(client, "/campaigns"),
                "name": "Năm 1",
                "starts_on": starts_on,
                "ends_on": "2026-12-31",
                "village_ids": [geo["tanha_v1"].id],
                "goal_visited_pct": 100,
                "goal_activated_pct": 80,
            },
        )
        assert response.status_code == 200, starts_on
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


@pytest.mark.parametrize("due_on", [date(1, 1, 1), date(2014, 12, 31), date(2027, 11, 28), date(9999, 12, 31)])
def test_an_assignment_day_outside_the_range_is_refused(app, users, geo, due_on):
    member = make_user("member.two", Role.MEMBER, geo["tanha_v1"])
    home = make_household(users["leader"], geo["tanha_v1"])
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        assign_households(users["leader"], member.id, [home.id], due_on=due_on, now=NOW)
    assert "due_on" in refused.value.errors


# --- reports -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, last, field",
    [
        ("0000-01", "2026-06", "from"),
        ("1900-01", "2026-06", "from"),
        ("2026-01", "9999-12", "to"),
        ("2014-12", "", "from"),
    ],
)
def test_a_report_month_outside_2015_to_this_month_is_refused(app, users, geo, first, last, field):
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        reports.report_period(users["admin"], geo["province"], first, last, today=TODAY)
    assert field in refused.value.errors


@pytest.mark.parametrize("start", ["0000-01", "0001-01", "9999-12"])
def test_an_odd_outreach_start_month_is_told_and_the_report_still_shows(client, users, geo, start):
    login(client, "admin")
    response = client.get(f"/reports/units/{geo['province'].id}/impact", query_string={"start": start})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "period", ["01/2014", "0001", "Năm 1900", "01/01/2026 - 31/12/9999", "Q1/2099", "01/0001 - 31/01/0001"]
)
def test_statistics_for_a_period_outside_2015_to_this_year_are_refused_by_row(app, geo, users, period):
    staff = make_user("staff.province", Role.STAFF, geo["province"])
    text = f"Đơn vị,Kỳ,Tổng số,Trực tuyến\nUBND phường Tân Hà,{period},100,20\n"
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        import_statistics(staff, csv_file(text), "t.csv", province=geo["province"], now=NOW)
    assert "Dòng 2: Kỳ (tháng, quý hoặc năm):" in str(refused.value)


def test_a_dossier_received_outside_the_range_refuses_the_file(app, geo, users):
    staff = make_user("staff.province", Role.STAFF, geo["province"])
    text = "Đơn vị tiếp nhận,Ngày tiếp nhận,Hình thức nộp\nUBND phường Tân Hà,01/01/0001,Trực tuyến\n"
    with app.test_request_context(), pytest.raises(ValidationError) as refused:
        import_statistics(staff, csv_file(text), "d.csv", province=geo["province"], now=NOW)
    assert "Dòng 2: Ngày tiếp nhận" in str(refused.value)


# --- rows already stored with absurd dates -----------------------------------------------------------------

ABSURD_MOMENTS = [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)]
ABSURD_DAYS = [date(1, 1, 1), date(9999, 12, 31)]


@pytest.fixture
def absurd(app, users, geo):
    """What a phone with a broken clock stored before dates were checked, written straight to the tables."""
    home = make_household(users["leader"], geo["tanha_v1"])
    for index, (moment, day) in enumerate(zip(ABSURD_MOMENTS, ABSURD_DAYS, strict=True)):
        db.session.add(
            VisitRecord(
                client_id=f"00000000-0000-4000-8000-00000000000{index}",
                household_id=home.id,
                member_id=users["member"].id,
                device_time=moment,
                server_time=NOW,
                outcome="follow_up",
                follow_up_on=day,
            )
        )
    campaign = Campaign(commune_id=geo["tanha"].id, name="Năm 1", starts_on=date(1, 1, 1), ends_on=date(9999, 12, 31))
    campaign.villages = [geo["tanha_v1"]]
    db.session.add(campaign)
    db.session.add(
        Assignment(
            household_id=home.id,
            member_id=users["member"].id,
            due_on=date(1, 1, 1),
            assigned_by_id=users["leader"].id,
            created_at=NOW,
        )
    )
    db.session.commit()
    staff = make_user("staff.province", Role.STAFF, geo["province"])
    text = "Đơn vị,Kỳ,Tổng số,Trực tuyến\nUBND phường Tân Hà,01/2026,100,20\nUBND phường Tân Hà,02/2026,100,30\n"
    with app.test_request_context():
        import_statistics(staff, csv_file(text), "t.csv", province=geo["province"], now=NOW)
    first, second = db.session.scalars(sa.select(SubmissionStat).order_by(SubmissionStat.period_start))
    first.period_start, first.period_end = date(1, 1, 1), date(1, 1, 31)
    second.period_start, second.period_end = date(9999, 12, 1), date(9999, 12, 31)
    db.session.commit()
    return home, campaign


def test_pages_still_open_over_rows_with_absurd_dates(app, client, users, geo, absurd):
    home, campaign = absurd
    login(client, "leader.tanha")
    for address in (
        f"/households/{home.id}/visits",
        f"/campaigns/{campaign.id}",
        "/campaigns",
        f"/reports/units/{geo['tanha'].id}/impact",
        f"/reports/units/{geo['tanha'].id}/impact?format=csv",
        f"/reports/units/{geo['tanha'].id}",
        f"/reports/units/{geo['tanha'].id}?format=csv&table=periods",
        f"/reports/units/{geo['tanha'].id}?format=xlsx&table=trend",
        f"/maps/units/{geo['tanha'].id}",
        "/assign",
        "/",
    ):
        assert client.get(address).status_code == 200, address
    phone = app.test_client()
    login(phone, "member.tanha")
    for address in ("/today", f"/households/{home.id}/visits", "/api/v1/assignments", "/maps/walk"):
        assert phone.get(address).status_code == 200, address
    for index in range(2):
        assert phone.get(f"/api/v1/visits/00000000-0000-4000-8000-00000000000{index}").status_code == 200


def test_reports_over_figures_and_a_first_visit_in_year_1(client, users, geo, absurd):
    login(client, "admin")
    for unit in ("province", "tanha"):
        for page in ("", "/impact", "/impact?from=2026-01&to=2026-06", "?format=csv&table=trend"):
            assert client.get(f"/reports/units/{geo[unit].id}{page}").status_code == 200, page
