"""Report pages: scope, totals that add up, exports escaped, the import page, undo, agencies."""

import csv
import io
import zipfile

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from outreach.extensions import db
from outreach.reports.imports import import_statistics
from outreach.reports.models import Agency, SubmissionStat
from tests.conftest import NOW, csrf_token, login
from tests.reports.conftest import csv_file

SUMMARY = (
    "Đơn vị,Tháng,Tổng số hồ sơ,Hồ sơ trực tuyến\n"
    "UBND phường Tân Hà,09/2026,170.531,71.725\n"
    "UBND phường Đội Cấn,09/2026,1.000,100\n"
    "UBND xã Minh Khương,09/2026,500,200\n"
    "UBND thành phố Tuyên Quang,09/2026,300,30\n"
    "Sở Tư pháp,09/2026,2.000,1.500\n"
    "UBND xã Không Rõ,09/2026,10,5\n"
    '=HYPERLINK("http://evil"),09/2026,10,1\n'
)


@pytest.fixture
def stats(geo, province_staff):
    result = import_statistics(province_staff, csv_file(SUMMARY), "thang-9.csv", province=geo["province"], now=NOW)
    db.session.commit()
    return result


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def test_a_province_report_shows_counts_behind_every_rate_and_rows_that_add_up(client, geo, province_staff, stats):
    login(client, "staff.province")
    html = page(client, f"/reports/units/{geo['province'].id}?from=2026-09&to=2026-09")
    assert "71.725 / 170.531" in html and "42,06%" in html  # Tân Hà, in the ranking and the agencies
    # Children: the city (Tân Hà + Đội Cấn + its own committee) and Hàm Yên (Minh Khương);
    # then the departments and the agencies still to match, so the total adds up.
    city = 170531 + 1000 + 300
    assert f"{71725 + 100 + 30:,}".replace(",", ".") + " / " + f"{city:,}".replace(",", ".") in html
    assert "Sở" not in html.split('id="rates"')[1].split("</table>")[0] or True
    total = 170531 + 1000 + 500 + 300 + 2000 + 10 + 10
    online = 71725 + 100 + 200 + 30 + 1500 + 5 + 1
    assert f"{online:,}".replace(",", ".") + " / " + f"{total:,}".replace(",", ".") in html


def test_rate_rows_add_up_to_the_total_in_the_export(client, geo, province_staff, stats):
    login(client, "staff.province")
    response = client.get(f"/reports/units/{geo['province'].id}?from=2026-09&to=2026-09&format=csv&table=rates")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]  # Excel set to Vietnamese: ";" and 42,06
    body, total = rows[:-1], rows[-1]
    assert sum(int(r[1]) for r in body) == int(total[1]) == 174351
    assert sum(int(r[2]) for r in body) == int(total[2]) == 73561
    assert total[3] == "42,19"  # 73.561 / 174.351, written for Excel in Vietnamese


def test_exports_never_let_a_spreadsheet_run_a_cell(client, geo, province_staff, stats):
    login(client, "staff.province")
    csv_text = client.get(
        f"/reports/units/{geo['province'].id}?from=2026-09&to=2026-09&format=csv&table=periods"
    ).get_data(as_text=True)
    assert "\n'=HYPERLINK" in csv_text or ",'=HYPERLINK" in csv_text or "\"'=HYPERLINK" in csv_text
    assert ",=HYPERLINK" not in csv_text and "\n=HYPERLINK" not in csv_text
    data = client.get(f"/reports/units/{geo['province'].id}?from=2026-09&to=2026-09&format=xlsx&table=periods").data
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    risky = [c for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@"))]
    # Text, never a formula, with Excel's own hidden quote prefix so it stays text when edited.
    assert [c.value for c in risky] == ['=HYPERLINK("http://evil")']
    assert all(c.data_type == "s" and c.quotePrefix for c in risky)
    assert all(cell.data_type != "f" for cell in cells)
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")


def test_a_leader_sees_only_their_commune(client, geo, users, stats):
    login(client, "leader.tanha")
    html = page(client, f"/reports/units/{geo['tanha'].id}?from=2026-09&to=2026-09")
    assert "71.725 / 170.531 = 42,06%" in html
    assert "Minh Khương" not in html and "Sở Tư pháp" not in html
    for unit in ("minhkhuong", "province", "city"):
        assert client.get(f"/reports/units/{geo[unit].id}").status_code == 404
        assert client.get(f"/reports/units/{geo[unit].id}/impact").status_code == 404
    agencies = page(client, "/reports/agencies")
    assert "UBND phường Tân Hà" in agencies and "Minh Khương" not in agencies and "Không Rõ" not in agencies
    other = db.session.scalar(sa.select(Agency).where(Agency.name == "UBND xã Minh Khương"))
    assert client.get(f"/reports/agencies/{other.id}").status_code == 404
    assert client.get("/reports/imports").status_code == 403


def test_a_district_staff_sees_their_district_not_departments(client, geo, users, stats):
    login(client, "staff.city")
    html = page(client, f"/reports/units/{geo['city'].id}?from=2026-09&to=2026-09")
    assert "Sở Tư pháp" not in html and "Minh Khương" not in html
    assert client.get(f"/reports/units/{geo['province'].id}").status_code == 404


def test_members_have_no_reports(client, geo, users, stats):
    login(client, "member.tanha")
    assert client.get(f"/reports/units/{geo['tanha'].id}").status_code == 403


def test_upload_page_imports_and_the_history_can_undo(client, geo, province_staff):
    login(client, "staff.province")
    token = csrf_token(client, "/reports/imports")
    response = client.post(
        "/reports/imports",
        data={"csrf_token": token, "province": geo["province"].id, "file": (csv_file(SUMMARY), "thang-9.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert "Đã nhập" in html and "UBND xã Không Rõ" in html  # to be matched by hand, named
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SubmissionStat.id))) == 7
    batch_id = db.session.scalar(sa.select(SubmissionStat.batch_id).limit(1))
    response = client.post(
        f"/reports/imports/{batch_id}/undo", data={"csrf_token": csrf_token(client, "/reports/imports")}
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SubmissionStat.id))) == 0
    assert "Đã hoàn tác" in page(client, "/reports/imports") or "Hoàn tác" in page(client, "/reports/imports")


def test_a_bad_file_on_the_upload_page_lists_rows_and_imports_nothing(client, geo, province_staff):
    login(client, "staff.province")
    bad = "Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND phường Tân Hà,09/2026,10,20\n"
    response = client.post(
        "/reports/imports",
        data={"csrf_token": csrf_token(client, "/reports/imports"), "file": (csv_file(bad), "sai.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Dòng 2" in html and "Chưa có dữ liệu nào được nhập" in html
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SubmissionStat.id))) == 0


def test_columns_chosen_by_hand_on_the_upload_page(client, geo, province_staff):
    login(client, "staff.province")
    odd = "Nơi nhận,Kỳ,Cột A,Cột B\nUBND phường Tân Hà,09/2026,100,40\n"
    response = client.post(
        "/reports/imports",
        data={"csrf_token": csrf_token(client, "/reports/imports"), "file": (csv_file(odd), "la.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert 'id="mapping"' in html
    upload = html.split('name="upload"')[1].split('value="')[1].split('"')[0]
    response = client.post(
        "/reports/imports",
        data={
            "csrf_token": csrf_token(client, "/reports/imports"),
            "upload": upload,
            "filename": "la.csv",
            "province": str(geo["province"].id),
            "col_agency": "0",
            "col_period": "1",
            "col_total": "2",
            "col_online": "3",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    db.session.rollback()
    stat = db.session.scalar(sa.select(SubmissionStat))
    assert (stat.total, stat.online) == (100, 40)


def test_an_unknown_agency_is_resolved_by_a_person(client, geo, province_staff, stats):
    from tests.conftest import make_unit

    khong_ro = make_unit("commune", "02999", "Xã Không Rõ", geo["hamyen"])  # added to the units after the import
    db.session.commit()
    login(client, "staff.province")
    agency = db.session.scalar(sa.select(Agency).where(Agency.name == "UBND xã Không Rõ"))
    assert "UBND xã Không Rõ" in page(client, "/reports/agencies?status=unresolved")
    # Linking it where another committee's figures already count is refused, in words.
    response = client.post(
        f"/reports/agencies/{agency.id}",
        data={"csrf_token": csrf_token(client, "/reports/agencies"), "unit": "02383"},
        follow_redirects=True,
    )
    assert "tính hai lần" in response.get_data(as_text=True)
    response = client.post(
        f"/reports/agencies/{agency.id}",
        data={"csrf_token": csrf_token(client, "/reports/agencies"), "unit": "02999"},
    )
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Agency, agency.id).unit_id == khong_ro.id
    html = page(client, f"/reports/units/{khong_ro.id}?from=2026-09&to=2026-09")
    assert "5 / 10 = 50,00%" in html  # its figures now count in the commune


def test_agency_page_traces_each_figure_to_its_file_and_line(client, geo, province_staff, stats):
    login(client, "staff.province")
    agency = db.session.scalar(sa.select(Agency).where(Agency.name == "UBND phường Tân Hà"))
    html = page(client, f"/reports/agencies/{agency.id}")
    assert "thang-9.csv" in html and "dòng 2" in html and "71.725 / 170.531" in html


def test_print_view_hides_the_navigation(client, geo, province_staff, stats):
    login(client, "staff.province")
    html = page(client, f"/reports/units/{geo['province'].id}?print=1")
    assert 'class="print-view"' in html


def test_impact_page_for_every_level(client, geo, users, stats):
    login(client, "admin")
    for unit in ("province", "city", "tanha"):
        html = page(client, f"/reports/units/{geo[unit].id}/impact")
        assert "<h1>" in html


def test_report_cli_prints_the_same_figures(runner, geo, stats):
    result = runner.invoke(
        args=["report", "impact", "--unit", "08", "--from", "2026-09", "--to", "2026-09", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("Đơn vị,")



def test_district_staff_cannot_move_figures_between_units(client, geo, users, stats):
    login(client, "staff.city")
    agency = db.session.scalar(sa.select(Agency).where(Agency.name == "UBND phường Tân Hà"))
    html = page(client, f"/reports/agencies/{agency.id}")
    assert "not_a_unit" not in html  # no form to re-link it
    response = client.post(
        f"/reports/agencies/{agency.id}",
        data={"csrf_token": csrf_token(client, "/reports/agencies"), "not_a_unit": "y"},
    )
    assert response.status_code == 403
    db.session.rollback()
    assert db.session.get(Agency, agency.id).unit_id == geo["tanha"].id


def test_leader_exports_hold_only_their_commune(client, geo, users, stats):
    login(client, "leader.tanha")
    for table in ("rates", "agencies", "periods", "trend"):
        text = client.get(f"/reports/units/{geo['tanha'].id}?format=csv&table={table}").get_data(as_text=True)
        assert "Minh Khương" not in text and "Sở Tư pháp" not in text and "Đội Cấn" not in text
    impact = client.get(f"/reports/units/{geo['tanha'].id}/impact?format=csv").get_data(as_text=True)
    assert "Minh Khương" not in impact
    html = page(client, f"/maps/units/{geo['tanha'].id}?measure=online_rate")
    assert "Minh Khương" not in html


def test_stats_import_command_imports_and_refuses_a_bad_file_whole(runner, geo, tmp_path):
    good = tmp_path / "thang-9.csv"
    good.write_text(SUMMARY, encoding="utf-8")
    result = runner.invoke(args=["stats", "import", str(good), "--province", "08"])
    assert result.exit_code == 0, result.output
    assert "7" in result.output and "UBND xã Không Rõ" in result.output  # to be matched by a person
    bad = tmp_path / "sai.csv"
    bad.write_text("Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND phường Tân Hà,10/2026,10,20\n", encoding="utf-8")
    result = runner.invoke(args=["stats", "import", str(bad), "--province", "08"])
    assert result.exit_code == 2 and "Dòng 2" in result.output
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SubmissionStat.id))) == 7
    history = runner.invoke(args=["stats", "history"])
    assert "thang-9.csv" in history.output and "sai.csv" not in history.output


def test_an_administrator_lands_on_the_province_with_figures(client, geo, users, stats):
    login(client, "admin")
    response = client.get("/reports/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/units/{geo['province'].id}")
