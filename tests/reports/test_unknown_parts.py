"""Fully online, partly online and paid online: unknown where a file does not give them, never 0, and
sums over known and unknown figures say how much they cover."""

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from outreach.extensions import db
from outreach.reports.imports import import_statistics
from outreach.reports.models import Agency, SubmissionStat
from outreach.reports.services import online_rates, period_rows, report_period, trend
from tests.conftest import NOW, login
from tests.reports.conftest import csv_file

# Tân Hà's file gives the split and the payments; Minh Khương's gives neither.
WITH_PARTS = (
    "Đơn vị;Tháng;Tổng số hồ sơ;Hồ sơ trực tuyến;Toàn trình;Một phần;Thanh toán trực tuyến\n"
    "UBND phường Tân Hà;09/2026;1.205;512;301;211;100\n"
)
WITHOUT_PARTS = "Đơn vị;Tháng;Tổng số hồ sơ;Hồ sơ trực tuyến\nUBND xã Minh Khương;09/2026;800;88\n"


@pytest.fixture
def mixed(geo, province_staff):
    for name, text in (("tan-ha.csv", WITH_PARTS), ("minh-khuong.csv", WITHOUT_PARTS)):
        import_statistics(province_staff, csv_file(text), name, province=geo["province"], now=NOW)
    db.session.commit()


def test_a_column_the_file_does_not_give_is_stored_unknown(geo, mixed):
    row = db.session.scalar(sa.select(SubmissionStat).join(Agency).where(Agency.name == "UBND xã Minh Khương"))
    assert (row.fully_online, row.partly_online, row.paid_online) == (None, None, None)


def test_figures_keep_unknown_apart_from_zero_and_say_what_they_cover(geo, province_staff, mixed):
    province = geo["province"]
    period = report_period(province_staff, province, "2026-09", "2026-09")
    report = online_rates(province_staff, province, period)
    total = report.total
    assert (total.total, total.online) == (2005, 600)
    assert (total.fully_online, total.partly_online, total.paid_online) == (301, 211, 100)
    assert (total.fully_known_online, total.partly_known_online, total.paid_known_total) == (512, 512, 1205)
    hamyen = next(row for row in report.rows if row.unit is not None and row.unit.id == geo["hamyen"].id)
    assert (hamyen.figures.fully_online, hamyen.figures.partly_online, hamyen.figures.paid_online) == (None, None, None)
    (point,) = trend(province_staff, province, period)
    assert (point.figures.fully_online, point.figures.fully_known_online) == (301, 512)
    by_agency = {r.agency: r.figures for r in period_rows(province_staff, province, period)}
    assert by_agency["UBND xã Minh Khương"].paid_online is None and by_agency["UBND phường Tân Hà"].paid_online == 100


def test_the_unit_page_says_dash_for_unknown_and_how_much_a_sum_covers(client, geo, province_staff, mixed):
    login(client, "staff.province")
    html = client.get(f"/reports/units/{geo['province'].id}?from=2026-09&to=2026-09").get_data(as_text=True)
    parts = html.split('id="online-parts"')[1].split("</p>")[0]
    assert "301" in parts and "512" in parts and "600" in parts  # 301, known for 512 of the 600 online dossiers
    assert "1.205" in parts and "2.005" in parts  # paid online: known for 1.205 of the 2.005 dossiers
    hamyen = client.get(f"/reports/units/{geo['hamyen'].id}?from=2026-09&to=2026-09").get_data(as_text=True)
    parts = hamyen.split('id="online-parts"')[1].split("</p>")[0]
    assert "—" in parts and ": 0" not in parts


def test_exports_leave_unknown_cells_empty_with_a_note(client, geo, province_staff, mixed):
    login(client, "staff.province")
    url = f"/reports/units/{geo['province'].id}?from=2026-09&to=2026-09&table=agencies"
    text = client.get(url + "&format=csv").get_data(as_text=True).lstrip("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    columns = [h for h in header if h in ("Toàn trình", "Một phần", "Thanh toán trực tuyến")]
    assert len(columns) == 3
    minh_khuong, tan_ha = by_name["UBND xã Minh Khương"], by_name["UBND phường Tân Hà"]
    assert [minh_khuong[c] for c in columns] == ["", "", ""] and minh_khuong[header[-1]]  # a note says why
    assert [tan_ha[c] for c in columns] == ["301", "211", "100"] and tan_ha[header[-1]] == ""

    rates = client.get(url.replace("agencies", "rates") + "&format=xlsx").data
    sheet = load_workbook(io.BytesIO(rates)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    head, total = values[0], values[-1]
    assert total[head.index("Toàn trình")] == 301
    assert "512" in total[-1] and "600" in total[-1]  # the sum covers 512 of the 600 online dossiers


def test_the_agency_page_shows_dash_for_unknown(client, geo, province_staff, mixed):
    login(client, "staff.province")
    agency = db.session.scalar(sa.select(Agency).where(Agency.name == "UBND xã Minh Khương"))
    html = client.get(f"/reports/agencies/{agency.id}").get_data(as_text=True)
    row = html.split('id="rows"')[1].split("</tbody>")[0]
    assert row.count("—") >= 3 and "88 / 800" in row
