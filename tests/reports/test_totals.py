"""A file's own total rows: told from agencies by their label, skipped, and checked against the rows imported."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from outreach.audit.models import ImportBatch
from outreach.extensions import db
from outreach.reports.imports import (
    FileTotal,
    StatRow,
    TotalKind,
    TotalsMismatch,
    check_totals,
    import_statistics,
    total_label,
)
from outreach.reports.models import Agency, AgencyStatus, SubmissionStat
from outreach.reports.services import online_rates, report_period
from tests.conftest import NOW, csrf_token, login
from tests.reports.conftest import csv_file

HEADER = "STT;Tên đơn vị;Kỳ báo cáo;Tổng số hồ sơ tiếp nhận;Hồ sơ trực tuyến\n"


def run_import(staff, geo, text, filename="bao-cao.csv", **kwargs):
    result = import_statistics(staff, csv_file(text), filename, province=geo["province"], now=NOW, **kwargs)
    db.session.commit()
    return result


def stored() -> list[tuple[str, int, int]]:
    db.session.rollback()
    return [
        (name, total, online)
        for name, total, online in db.session.execute(
            sa.select(Agency.name, SubmissionStat.total, SubmissionStat.online)
            .join(Agency, Agency.id == SubmissionStat.agency_id)
            .order_by(SubmissionStat.source_line)
        )
    ]


# --- Labels ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("Tổng cộng", TotalKind.GRAND),
        ("TỔNG CỘNG", TotalKind.GRAND),
        ("Tổng cộng:", TotalKind.GRAND),
        ("Tổng cộng (I+II)", TotalKind.GRAND),
        ("Tổng cộng toàn tỉnh", TotalKind.GRAND),
        ("Tổng số", TotalKind.GRAND),
        ("Tổng", TotalKind.GRAND),
        ("Toàn tỉnh", TotalKind.GRAND),
        ("Total", TotalKind.GRAND),
        ("Grand total", TotalKind.GRAND),
        ("Cộng", TotalKind.TOTAL),
        ("Cộng:", TotalKind.TOTAL),
        ("Tổng cấp xã", TotalKind.SUBTOTAL),
        ("Tổng số cấp xã", TotalKind.SUBTOTAL),
        ("Cộng cấp huyện", TotalKind.SUBTOTAL),
        ("Cộng khối sở, ngành", TotalKind.SUBTOTAL),
        ("Cộng I", TotalKind.SUBTOTAL),
        ("Cấp xã", TotalKind.SUBTOTAL),
        ("Subtotal", TotalKind.SUBTOTAL),
        ("Sub-total", TotalKind.SUBTOTAL),
        # Written without diacritics: a total word alone, or with a scope, is still a total.
        ("Tong cong", TotalKind.GRAND),
        ("TONG CONG", TotalKind.GRAND),
        ("Tong so", TotalKind.GRAND),
        ("Cong", TotalKind.TOTAL),
        ("Cong:", TotalKind.TOTAL),
        ("Cong cap xa", TotalKind.SUBTOTAL),
        ("Toan tinh", TotalKind.GRAND),
    ],
)
def test_total_labels(label, kind):
    assert total_label(label) == kind


@pytest.mark.parametrize(
    "label",
    [
        "Công an tỉnh",  # "cong an tinh" folded: once taken for "Cộng"
        "Công an tỉnh Tuyên Quang",
        "Công ty Điện lực Tuyên Quang",
        "Công ty TNHH MTV Xổ số kiến thiết",
        "Công",  # diacritics matter: "Công" is not "Cộng"
        "Tổng cục Thuế",
        "Tổng công ty Bưu điện Việt Nam",
        "Tổng đội Thanh niên xung phong",
        "Cộng đồng dân cư thôn 1",
        "Cấp nước Tuyên Quang",
        # Without diacritics: a total word followed by an agency's name is the agency.
        "Cong an tinh",
        "Cong an tinh Tuyen Quang",
        "Cong ty Dien luc",
        "Tong cuc Thue",
        "Tong cong ty Buu dien",
        "UBND xã Tân Hà",
        "Trung tâm Phục vụ hành chính công",
        "1",
        "",
    ],
)
def test_agencies_that_start_like_a_total_word_are_agencies(label):
    assert total_label(label) is None


# --- Checking against the rows, by hand -------------------------------------------------------------------------


def _row(line, total, online, start=date(2026, 9, 1), end=date(2026, 9, 30), name="UBND"):
    return StatRow(Agency(name=name), "month", start, end, total, online, line=line)


def _total(line, total, online, label="Tổng cộng", kind=TotalKind.GRAND, period=None):
    return FileTotal(line, label, kind, period, total, online)


def test_a_total_that_is_the_sum_of_the_rows_matches():
    (check,) = check_totals([_total(5, 30, 12)], [_row(2, 10, 2), _row(3, 20, 10)])
    assert check.matches and check.rows == 2 and (check.imported_total, check.imported_online) == (30, 12)


def test_a_row_skipped_as_a_total_that_holds_the_shortfall_is_named():
    # "Cộng" on line 3 holds one agency's figures: the grand total says so.
    totals = [_total(3, 5, 1, "Cộng", TotalKind.TOTAL), _total(5, 35, 13)]
    (check,) = check_totals(totals, [_row(2, 10, 2), _row(4, 20, 10)])
    assert not check.matches and [c.line for c in check.compared] == [5]
    assert [(e.kind, e.line) for e in check.explanations] == [("skipped", 3)]


def test_a_row_imported_that_holds_the_excess_is_named():
    rows = [_row(2, 10, 2), _row(3, 20, 10), _row(4, 30, 12, name="Trong đó")]
    (check,) = check_totals([_total(5, 30, 12)], rows)
    assert [(e.kind, e.line, e.label) for e in check.explanations] == [("imported", 4, "Trong đó")]


def test_subtotals_without_a_grand_total_are_added_up_and_a_wrong_one_is_located():
    rows = [_row(2, 10, 2), _row(3, 20, 10), _row(5, 7, 7), _row(6, 3, 1)]
    sub = TotalKind.SUBTOTAL
    good = check_totals([_total(4, 30, 12, "Cộng cấp xã", sub), _total(7, 10, 8, "Cộng cấp huyện", sub)], rows)
    assert [c.matches for c in good] == [True]
    (bad,) = check_totals([_total(4, 31, 12, "Cộng cấp xã", sub), _total(7, 10, 8, "Cộng cấp huyện", sub)], rows)
    assert not bad.matches
    assert [(e.kind, e.line, e.first, e.last, e.total) for e in bad.explanations] == [("group", 4, 2, 3, 30)]


def test_a_grand_total_with_its_subtotals_compares_the_grand_total():
    rows = [_row(3, 10, 2), _row(4, 20, 10), _row(6, 7, 7)]
    totals = [
        _total(2, 30, 12, "Cấp xã", TotalKind.SUBTOTAL),  # a group's heading with its sum, above its rows
        _total(5, 7, 7, "Cấp huyện", TotalKind.SUBTOTAL),
        _total(7, 37, 19, "Tổng cộng"),
    ]
    (check,) = check_totals(totals, rows)
    assert check.matches and [c.line for c in check.compared] == [7]


def test_totals_per_period_and_a_grand_total_across_periods():
    september = ("month", date(2026, 9, 1), date(2026, 9, 30))
    october = ("month", date(2026, 10, 1), date(2026, 10, 31))
    rows = [_row(2, 10, 2), _row(4, 20, 10, date(2026, 10, 1), date(2026, 10, 31))]
    totals = [_total(3, 10, 2, period=september), _total(5, 21, 10, period=october), _total(6, 31, 12)]
    checks = check_totals(totals, rows)
    assert [(c.period, c.matches) for c in checks] == [(september, True), (october, False), (None, False)]


def test_a_total_row_without_figures_is_not_compared():
    assert check_totals([_total(5, None, None)], [_row(2, 10, 2)]) == []


# --- Importing -------------------------------------------------------------------------------------------------

# "Công an tỉnh" folds to "cong an tinh", once read as "Cộng": the province's rate came out 42,16%, not 42,06%.
POLICE = (
    HEADER
    + "1;UBND phường Tân Hà;09/2026;160.531;67.474\n"
    + "2;UBND xã Minh Khương;09/2026;9.000;4.000\n"
    + "3;Công an tỉnh Tuyên Quang;09/2026;1.000;251\n"
    + ";Tổng cộng;;170.531;71.725\n"
)


def test_a_province_agency_named_like_a_total_word_is_imported_and_the_rate_is_right(geo, province_staff):
    result = run_import(province_staff, geo, POLICE)
    assert result.rows == 3
    assert ("Công an tỉnh Tuyên Quang", 1000, 251) in stored()
    (check,) = result.totals
    assert check.matches and (check.file_total, check.file_online) == (170531, 71725)
    ((matches, said),) = result.totals_said()
    assert matches and "170.531 / 71.725" in said[0] and "Dòng 5" in said[0]
    province = geo["province"]
    report = online_rates(province_staff, province, report_period(province_staff, province, "2026-09", "2026-09"))
    assert (report.total.online, report.total.total) == (71725, 170531)
    assert round(100 * report.total.rate, 2) == 42.06


def test_companies_and_general_departments_are_agencies(geo, province_staff):
    text = (
        HEADER
        + "1;Công ty Điện lực Tuyên Quang;09/2026;40;10\n"
        + "2;Tổng cục Thuế;09/2026;20;5\n"
        + "3;Cong an tinh;10/2026;30;3\n"  # written without diacritics: "Cong" and then a name
    )
    result = run_import(province_staff, geo, text)
    assert result.rows == 3 and result.totals == []
    assert {name for name, _t, _o in stored()} == {"Công ty Điện lực Tuyên Quang", "Tổng cục Thuế", "Cong an tinh"}
    assert db.session.scalar(sa.select(Agency.status).where(Agency.name == "Tổng cục Thuế")) in (
        AgencyStatus.NOT_A_UNIT,
        AgencyStatus.UNRESOLVED,
    )


def test_a_file_without_diacritics_has_its_totals_told_by_the_whole_label(geo, province_staff):
    text = (
        "STT,Don vi,Ky bao cao,Tong so ho so,Ho so truc tuyen\n"
        "1,UBND phuong Tan Ha,09/2026,100,40\n"
        "2,Cong an tinh,09/2026,50,10\n"
        ",Cong,09/2026,150,50\n"
        ",Tong cong,,150,50\n"
    )
    result = run_import(province_staff, geo, text)
    assert result.rows == 2 and ("Cong an tinh", 50, 10) in stored()
    (check,) = result.totals  # one month: "Cong" and "Tong cong" sum the same rows
    assert check.matches and [t.label for t in check.compared] == ["Tong cong"]


def test_a_total_written_in_the_number_column_is_a_total(geo, province_staff):
    text = HEADER + "1;UBND phường Tân Hà;09/2026;100;40\n2;UBND xã Minh Khương;09/2026;50;10\nTổng cộng;;;150;50\n"
    result = run_import(province_staff, geo, text)
    assert result.rows == 2 and [c.matches for c in result.totals] == [True]
    assert any("Dòng 4" in w for w in result.warnings)


def test_a_total_that_does_not_match_refuses_the_file_and_names_the_row(geo, province_staff):
    text = (
        HEADER
        + "1;UBND phường Tân Hà;09/2026;100;40\n"
        + "2;UBND xã Minh Khương;09/2026;50;10\n"
        + ";Cộng;09/2026;7;2\n"  # an agency's row whose name was overwritten: skipped as a total
        + ";Tổng cộng;;157;52\n"
    )
    with pytest.raises(TotalsMismatch) as refused:
        run_import(province_staff, geo, text)
    db.session.rollback()
    errors = refused.value.errors
    assert "157" in errors["Dòng 5"][0] and "150" in errors["Dòng 5"][0]  # the file's total and the rows' sum
    assert "“Cộng”" in errors["Dòng 4"][0]  # the row that holds the difference
    assert refused.value.errors[""]  # what to do, in Vietnamese
    assert db.session.scalar(sa.select(sa.func.count(SubmissionStat.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(ImportBatch.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Agency.id))) == 0

    result = run_import(province_staff, geo, text, accept_total_mismatch=True)
    assert result.rows == 2 and [c.matches for c in result.totals] == [False]
    batch = db.session.get(ImportBatch, result.batch.id)
    assert batch.detail["totals"][0]["matches"] is False and "157" in batch.detail["totals"][0]["said"][0]


def test_a_row_counted_twice_is_named(geo, province_staff):
    text = (
        HEADER
        + "1;UBND phường Tân Hà;09/2026;100;40\n"
        + "2;UBND xã Minh Khương;09/2026;50;10\n"
        + ";Trong đó: cấp xã;09/2026;150;50\n"  # not a total word: imported as an agency, counted twice
        + ";Tổng cộng;09/2026;150;50\n"
    )
    with pytest.raises(TotalsMismatch) as refused:
        run_import(province_staff, geo, text)
    assert "Trong đó" in refused.value.errors["Dòng 4"][0]


def test_totals_per_period_in_a_file_of_several_months(geo, province_staff):
    text = (
        HEADER
        + "1;UBND phường Tân Hà;09/2026;100;40\n"
        + "2;UBND xã Minh Khương;09/2026;50;10\n"
        + ";Cộng;09/2026;150;50\n"
        + "1;UBND phường Tân Hà;10/2026;110;45\n"
        + "2;UBND xã Minh Khương;10/2026;60;12\n"
        + ";Cộng;10/2026;170;57\n"
        + ";Tổng cộng;;320;107\n"
    )
    result = run_import(province_staff, geo, text)
    assert result.rows == 4
    assert [(c.period and c.period[1], c.matches) for c in result.totals] == [
        (date(2026, 9, 1), True),
        (date(2026, 10, 1), True),
        (None, True),
    ]


def test_an_empty_total_row_is_skipped_and_not_compared(geo, province_staff):
    result = run_import(province_staff, geo, HEADER + "1;UBND phường Tân Hà;09/2026;100;40\n;Tổng cộng;;;\n")
    assert result.rows == 1 and result.totals == [] and len(result.warnings) == 1


# --- Shown on the import page and by `stats import` -------------------------------------------------------------

MISMATCH = (
    HEADER
    + "1;UBND phường Tân Hà;09/2026;100;40\n"
    + "2;UBND xã Minh Khương;09/2026;50;10\n"
    + ";Cộng;09/2026;7;2\n"
    + ";Tổng cộng;;157;52\n"
)


def _count(model=SubmissionStat) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(model.id)))


def test_the_import_page_shows_a_matching_total(client, geo, province_staff):
    login(client, "staff.province")
    response = client.post(
        "/reports/imports",
        data={"csrf_token": csrf_token(client, "/reports/imports"), "file": (csv_file(POLICE), "thang-9.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    checks = html.split('id="total-checks"')[1].split("</div>")[0]
    assert "170.531 / 71.725" in checks and "Dòng 5" in checks and "Tổng cộng" in checks


def test_the_import_page_refuses_a_total_that_differs_until_a_person_confirms(client, geo, province_staff):
    login(client, "staff.province")
    response = client.post(
        "/reports/imports",
        data={"csrf_token": csrf_token(client, "/reports/imports"), "file": (csv_file(MISMATCH), "thang-9.csv")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Dòng 5" in html and "157" in html and "Dòng 4" in html  # the difference, and the row holding it
    assert 'id="confirm-total"' in html and _count() == 0 and _count(ImportBatch) == 0
    form = html.split('id="confirm-total"')[1].split("</form>")[0]
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', form))
    assert fields.pop("cancel") == "y"  # the other button: cancel and remove the file
    assert fields["col_agency"] == "1" and fields["col_total"] == "3"

    # Sent again without ticking the box: still refused, still nothing stored.
    fields["csrf_token"] = csrf_token(client, "/reports/imports")
    fields.pop("accept_total_mismatch", None)
    response = client.post("/reports/imports", data=fields)
    assert response.status_code == 400 and _count() == 0

    fields["accept_total_mismatch"] = "y"
    response = client.post("/reports/imports", data=fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:800]
    assert _count() == 2
    checks = html.split('id="total-checks"')[1].split("</div>")[0]
    assert "157" in checks and "150" in checks and "theo xác nhận" in checks
    history = html.split('id="history-h"')[1]
    assert "Đã nhập dù dòng tổng của tệp chênh lệch" in history


def test_stats_import_prints_the_check_and_needs_a_flag_for_a_difference(runner, geo, tmp_path):
    good = tmp_path / "thang-9.csv"
    good.write_text(POLICE, encoding="utf-8")
    result = runner.invoke(args=["stats", "import", str(good), "--province", "08"])
    assert result.exit_code == 0, result.output
    assert "170.531 / 71.725" in result.output and "Dòng 5" in result.output

    bad = tmp_path / "thang-10.csv"
    bad.write_text(MISMATCH.replace("09/2026", "10/2026"), encoding="utf-8")
    result = runner.invoke(args=["stats", "import", str(bad), "--province", "08"])
    assert result.exit_code == 2 and "Dòng 4" in result.output and "--accept-total-mismatch" in result.output
    assert _count() == 3
    result = runner.invoke(args=["stats", "import", str(bad), "--province", "08", "--accept-total-mismatch"])
    assert result.exit_code == 0, result.output
    assert "157" in result.output and _count() == 5
