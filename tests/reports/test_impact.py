"""The impact figures end to end: before/after split, who counts as "with outreach", the estimate, the trend."""

from datetime import date

import sqlalchemy as sa

from outreach.extensions import db
from outreach.geo.models import Level
from outreach.planning.models import Campaign
from outreach.reports import services
from outreach.reports.imports import import_statistics
from outreach.visits.services import record_visit
from tests.conftest import NOW, make_household, make_unit, visit_payload
from tests.reports.conftest import csv_file


def visit(actor, village, day: str):
    household = make_household(actor, village, "Hộ " + day)
    result = record_visit(actor, visit_payload(household, device_time=f"{day}T09:00:00+07:00"), now=NOW)
    assert result.status == "created", result.errors
    db.session.commit()


def test_difference_in_differences_on_a_small_example_computed_by_hand(geo, users, province_staff):
    late = make_unit(Level.COMMUNE, "02390", "Xã Phù Lưu", geo["hamyen"])
    late_village = make_unit(Level.VILLAGE, "02390-001", "Thôn Một", late)
    doican_village = geo["doican_v1"]
    db.session.add(
        Campaign(commune_id=geo["tanha"].id, name="Xuân", starts_on=date(2026, 3, 2), ends_on=date(2026, 5, 31))
    )
    db.session.commit()
    admin = users["admin"]
    visit(admin, geo["tanha_v1"], "2026-04-10")
    visit(admin, doican_village, "2026-05-20")
    visit(admin, late_village, "2026-09-01")  # after the months compared: not "with outreach" for them
    text = (
        "Đơn vị,Tháng,Tổng số,Trực tuyến\n"
        "UBND phường Tân Hà,01/2026,100,20\nUBND phường Tân Hà,06/2026,100,50\n"  # +0.30
        "UBND phường Đội Cấn,01/2026,100,30\nUBND phường Đội Cấn,06/2026,100,50\n"  # +0.20
        "UBND xã Minh Khương,01/2026,100,10\nUBND xã Minh Khương,06/2026,100,20\n"  # +0.10
        "UBND xã Phù Lưu,01/2026,100,40\nUBND xã Phù Lưu,06/2026,100,40\n"  # +0.00
    )
    import_statistics(province_staff, csv_file(text), "t.csv", province=geo["province"], now=NOW)
    db.session.commit()

    period = services.report_period(admin, geo["province"], "2026-01", "2026-06")
    report = services.impact(admin, geo["province"], period)
    assert report.outreach_start == date(2026, 3, 1)
    treated = {r.unit.name for r in report.rows if r.treated}
    assert treated == {"Phường Tân Hà", "Phường Đội Cấn"}
    did = report.did
    # (0.30 + 0.20) / 2 - (0.10 + 0.00) / 2 = 0.20
    assert abs(did.estimate - 0.20) < 1e-9
    assert did.treated.n == 2 and did.control.n == 2
    # Welch: s²_T = s²_C = 0.005, SE = sqrt(0.005/2 + 0.005/2) = sqrt(0.005); df = 2
    assert abs(did.se - 0.005**0.5) < 1e-9 and abs(did.df - 2) < 1e-9
    assert did.ci_low < 0.20 < did.ci_high and did.few_units
    row = next(r for r in report.rows if r.unit.name == "Phường Tân Hà")
    assert (row.before.online, row.before.total, row.after.online, row.after.total) == (20, 100, 50, 100)


def test_the_trend_never_mixes_months_and_quarters(geo, users, province_staff):
    text = (
        "Đơn vị,Kỳ,Tổng số,Trực tuyến\n"
        "UBND phường Tân Hà,01/2026,10,9\nUBND phường Tân Hà,02/2026,10,9\nUBND phường Tân Hà,03/2026,10,9\n"
        "UBND xã Minh Khương,Q1/2026,100,10\n"
    )
    import_statistics(province_staff, csv_file(text), "t.csv", province=geo["province"], now=NOW)
    db.session.commit()
    admin = users["admin"]
    period = services.report_period(admin, geo["province"], "2026-01", "2026-03")
    [point] = services.trend(admin, geo["province"], period)
    assert (point.kind, point.start, point.end) == ("quarter", date(2026, 1, 1), date(2026, 3, 31))
    assert (point.figures.online, point.figures.total) == (37, 130)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_a_commune_where_nobody_was_home_is_not_with_outreach(geo, users, province_staff):
    admin = users["admin"]
    db.session.add(
        Campaign(commune_id=geo["tanha"].id, name="Xuân", starts_on=date(2026, 3, 2), ends_on=date(2026, 5, 31))
    )
    db.session.commit()
    visit(admin, geo["tanha_v1"], "2026-04-10")
    knocked = make_household(admin, geo["minhkhuong_v1"], "Hộ vắng nhà")
    tried = visit_payload(knocked, outcome="nobody_home", device_time="2026-04-12T09:00:00+07:00")
    assert record_visit(admin, tried, now=NOW).status == "created"
    db.session.commit()
    text = (
        "Đơn vị,Tháng,Tổng số,Trực tuyến\n"
        "UBND phường Tân Hà,01/2026,100,20\nUBND phường Tân Hà,06/2026,100,50\n"
        "UBND xã Minh Khương,01/2026,100,10\nUBND xã Minh Khương,06/2026,100,20\n"
    )
    import_statistics(province_staff, csv_file(text), "t.csv", province=geo["province"], now=NOW)
    db.session.commit()
    report = services.impact(
        admin, geo["province"], services.report_period(admin, geo["province"], "2026-01", "2026-06")
    )
    rows = {r.unit.name: r for r in report.rows}
    assert rows["Phường Tân Hà"].treated and not rows["Xã Minh Khương"].treated
    assert (rows["Xã Minh Khương"].households, rows["Xã Minh Khương"].visited) == (1, 0)


def test_with_outreach_and_coverage_count_current_records_in_one_pass(geo, users, province_staff):
    """A visit corrected to "nobody home" no longer makes its commune "with outreach", nor its household
    reached; the coverage beside it counts the same current records (one pass over the area's visits)."""
    admin = users["admin"]
    db.session.add(
        Campaign(commune_id=geo["tanha"].id, name="Xuân", starts_on=date(2026, 3, 2), ends_on=date(2026, 5, 31))
    )
    db.session.commit()
    visit(admin, geo["tanha_v1"], "2026-04-10")
    home = make_household(admin, geo["minhkhuong_v1"], "Hộ sửa lại")
    first = visit_payload(home, device_time="2026-04-12T09:00:00+07:00")
    assert record_visit(admin, first, now=NOW).status == "created"
    fixed = visit_payload(
        home, outcome="nobody_home", device_time="2026-04-12T09:00:00+07:00", supersedes=first["client_id"]
    )
    assert record_visit(admin, fixed, now=NOW).status == "created"
    early = make_household(admin, geo["doican_v1"], "Hộ gặp sớm")  # met before the months compared only
    assert record_visit(admin, visit_payload(early, device_time="2026-02-10T09:00:00+07:00"), now=NOW).status == (
        "created"
    )
    db.session.commit()
    text = "".join(
        f"UBND {name},01/2026,100,20\nUBND {name},06/2026,100,30\n"
        for name in ("phường Tân Hà", "phường Đội Cấn", "xã Minh Khương")
    )
    import_statistics(province_staff, csv_file("Đơn vị,Tháng,Tổng số,Trực tuyến\n" + text), "t.csv",
                      province=geo["province"], now=NOW)  # fmt: skip
    db.session.commit()
    report = services.impact(
        admin, geo["province"], services.report_period(admin, geo["province"], "2026-01", "2026-06")
    )
    rows = {r.unit.name: r for r in report.rows}
    assert {name for name, r in rows.items() if r.treated} == {"Phường Tân Hà"}
    assert (rows["Xã Minh Khương"].households, rows["Xã Minh Khương"].visited) == (1, 0)
    assert (rows["Phường Đội Cấn"].households, rows["Phường Đội Cấn"].visited) == (1, 1)
    assert (rows["Phường Tân Hà"].visited, rows["Phường Tân Hà"].people_helped) == (1, 2)
