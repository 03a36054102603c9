"""Importing statistics: header variants, number formats, refused files, replace, undo, agencies."""

import io
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from outreach.audit.models import ImportBatch
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import Level
from outreach.reports.imports import import_statistics, parse_count, parse_period, undo_import
from outreach.reports.models import Agency, AgencyStatus, SubmissionStat
from tests.conftest import NOW, make_unit
from tests.reports.conftest import csv_file


def current_stats() -> list[SubmissionStat]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(SubmissionStat)
            .where(SubmissionStat.replaced_by_batch_id.is_(None))
            .order_by(SubmissionStat.period_start, SubmissionStat.id)
        )
    )


def run_import(staff, geo, stream, filename="bao-cao.csv", **kwargs):
    result = import_statistics(staff, stream, filename, province=geo["province"], now=NOW, **kwargs)
    db.session.commit()
    return result


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("170.531", 170531),
        ("170,531", 170531),
        ("170531", 170531),
        ("1.234.567", 1234567),
        ("170 531", 170531),
        ("0", 0),
    ],
)
def test_counts_written_the_vietnamese_or_english_way(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["-5", "12,5", "abc", "1.23", "1,2345"])
def test_counts_that_are_not_whole_non_negative_numbers_are_refused(text):
    with pytest.raises(ValueError):
        parse_count(text)


@pytest.mark.parametrize(
    ("text", "kind", "start", "end"),
    [
        ("09/2023", "month", date(2023, 9, 1), date(2023, 9, 30)),
        ("2023-09", "month", date(2023, 9, 1), date(2023, 9, 30)),
        ("Tháng 2/2024", "month", date(2024, 2, 1), date(2024, 2, 29)),
        ("T9/2023", "month", date(2023, 9, 1), date(2023, 9, 30)),
        ("Q3/2023", "quarter", date(2023, 7, 1), date(2023, 9, 30)),
        ("Quý III/2023", "quarter", date(2023, 7, 1), date(2023, 9, 30)),
        ("2023-Q4", "quarter", date(2023, 10, 1), date(2023, 12, 31)),
        ("Năm 2023", "year", date(2023, 1, 1), date(2023, 12, 31)),
        ("01/07/2023 - 30/09/2023", "quarter", date(2023, 7, 1), date(2023, 9, 30)),
        ("2023-09-01", "month", date(2023, 9, 1), date(2023, 9, 30)),
    ],
)
def test_periods(text, kind, start, end):
    assert parse_period(text) == (kind, start, end)


def test_vietnamese_vendor_file_with_title_rows_semicolons_bom_and_dotted_thousands(geo, province_staff):
    text = (
        "BÁO CÁO TÌNH HÌNH TIẾP NHẬN HỒ SƠ;;;;\n"
        "Kỳ báo cáo: tháng 9/2023;;;;\n"
        ";;;;\n"
        "STT;Tên đơn vị;Kỳ báo cáo;Tổng số hồ sơ tiếp nhận (hồ sơ);Hồ sơ trực tuyến;Tỷ lệ (%)\n"
        "1;UBND phường Tân Hà;09/2023;170.531;71.725;42,06\n"
        "2;Ủy ban nhân dân xã Minh Khương;09/2023;1.200;300;25\n"
        ";Tổng cộng;;171.731;72.025;\n"
    )
    result = run_import(province_staff, geo, csv_file(text, bom=True))
    assert result.rows == 2
    assert result.warnings and "Dòng 7" in result.warnings[0]  # the total row is skipped, and said so
    rows = current_stats()
    assert [(r.agency.unit_id, r.total, r.online) for r in rows] == [
        (geo["tanha"].id, 170531, 71725),
        (geo["minhkhuong"].id, 1200, 300),
    ]
    assert rows[0].source_line == 5 and rows[0].period_kind == "month"
    batch = db.session.get(ImportBatch, result.batch.id)
    assert batch.rows == 2 and batch.created_by_id == province_staff.id and batch.kind == "stats"
    assert batch.detail["columns"]["total"] == "Tổng số hồ sơ tiếp nhận (hồ sơ)"


def test_english_headers_commas_from_to_dates_and_optional_columns(geo, province_staff):
    text = (
        "Agency,From date,To date,Total received,Received online,Fully online,Partly online,Paid online\n"
        'UBND phuong Tan Ha,01/07/2023,30/09/2023,"1,000",400,300,100,50\n'
    )
    run_import(province_staff, geo, csv_file(text))
    (row,) = current_stats()
    assert (row.period_kind, row.period_start, row.period_end) == ("quarter", date(2023, 7, 1), date(2023, 9, 30))
    assert (row.total, row.online, row.fully_online, row.partly_online, row.paid_online) == (1000, 400, 300, 100, 50)


def test_xlsx_with_a_title_row_numbers_and_a_month_cell_stored_as_a_date(geo, province_staff):
    book = Workbook()
    sheet = book.active
    sheet.append(["Thống kê hồ sơ trực tuyến năm 2024"])
    sheet.append([])
    sheet.append(["Đơn vị tiếp nhận", "Tháng", "Tổng số hồ sơ", "Số hồ sơ trực tuyến", "Tỷ lệ trực tuyến"])
    sheet.append(["UBND xã Minh Khương", datetime(2024, 1, 1), 200, 50, 0.25])
    sheet.append(["UBND xã Minh Khương", "02/2024", 210.0, 70, 0.3333])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    result = run_import(province_staff, geo, data, "thong-ke.xlsx")
    assert result.warnings == []
    rows = current_stats()
    assert [(r.period_start, r.total, r.online, r.source_line) for r in rows] == [
        (date(2024, 1, 1), 200, 50, 4),
        (date(2024, 2, 1), 210, 70, 5),
    ]


def test_a_rate_that_does_not_match_the_counts_is_a_warning_and_the_counts_win(geo, province_staff):
    text = "Đơn vị,Tháng,Tổng số,Trực tuyến,Tỷ lệ\nUBND phường Tân Hà,10/2023,200,50,40%\n"
    result = run_import(province_staff, geo, csv_file(text))
    assert len(result.warnings) == 1 and "Dòng 2" in result.warnings[0] and "40%" in result.warnings[0]
    assert current_stats()[0].online == 50


def test_a_file_with_bad_rows_is_refused_whole_with_each_row_and_reason(geo, province_staff):
    text = (
        "Đơn vị,Tháng,Tổng số hồ sơ,Hồ sơ trực tuyến\n"
        "UBND phường Tân Hà,09/2023,100,40\n"
        "UBND phường Đội Cấn,09/2023,100,140\n"
        "UBND xã Minh Khương,09/2023,-5,0\n"
        "UBND xã Minh Khương,10/2023,nhiều,3\n"
        "UBND xã Minh Khương,tháng mười,10,3\n"
    )
    with pytest.raises(ValidationError) as refused:
        run_import(province_staff, geo, csv_file(text))
    db.session.rollback()
    errors = refused.value.errors
    assert set(errors) == {"Dòng 3", "Dòng 4", "Dòng 5", "Dòng 6"}
    assert "140" in errors["Dòng 3"][0] and "100" in errors["Dòng 3"][0]
    assert "-5" in errors["Dòng 4"][0]
    assert "nhiều" in errors["Dòng 5"][0]
    assert "tháng mười" in errors["Dòng 6"][0]
    assert db.session.scalar(sa.select(sa.func.count(SubmissionStat.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(ImportBatch.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Agency.id))) == 0


def test_missing_columns_are_named_and_can_then_be_chosen_by_hand(geo, province_staff):
    text = "Nơi nhận,Kỳ,Cột A,Cột B\nUBND phường Tân Hà,09/2023,100,40\n"
    with pytest.raises(ValidationError) as refused:
        run_import(province_staff, geo, csv_file(text))
    db.session.rollback()
    message = refused.value.errors["Dòng 1"][0]
    assert "Cột A" in message and "Choose them by hand" not in message  # in Vietnamese
    run_import(province_staff, geo, csv_file(text), overrides={"agency": 0, "total": 2, "online": 3})
    (row,) = current_stats()
    assert (row.total, row.online) == (100, 40)


def test_the_same_agency_and_period_again_replaces_and_undo_brings_the_old_figures_back(geo, province_staff):
    first = run_import(
        province_staff, geo, csv_file("Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND phường Tân Hà,09/2023,100,40\n")
    )
    second = run_import(
        province_staff,
        geo,
        csv_file("Cơ quan,Kỳ báo cáo,Tổng số hồ sơ,Hồ sơ trực tuyến\nỦy ban nhân dân phường Tân Hà,2023-09,120,60\n"),
        "sua-lai.csv",
    )
    assert second.replaced == 1
    assert [(r.total, r.online) for r in current_stats()] == [(120, 60)]
    assert db.session.scalar(sa.select(sa.func.count(SubmissionStat.id))) == 2  # the old row is kept

    with pytest.raises(ValidationError) as refused:
        undo_import(province_staff, db.session.get(ImportBatch, first.batch.id), now=NOW)
    assert "sua-lai.csv" in str(refused.value.errors)
    db.session.rollback()

    undo_import(province_staff, db.session.get(ImportBatch, second.batch.id), now=NOW)
    db.session.commit()
    assert [(r.total, r.online) for r in current_stats()] == [(100, 40)]
    assert db.session.get(ImportBatch, second.batch.id).undone_at is not None
    # The undone file may be imported again.
    third = run_import(
        province_staff,
        geo,
        csv_file("Cơ quan,Kỳ báo cáo,Tổng số hồ sơ,Hồ sơ trực tuyến\nỦy ban nhân dân phường Tân Hà,2023-09,120,60\n"),
        "sua-lai.csv",
    )
    assert third.replaced == 1 and [(r.total, r.online) for r in current_stats()] == [(120, 60)]


def test_a_quarter_over_imported_months_is_refused_not_mixed(geo, province_staff):
    months = "Đơn vị,Tháng,Tổng số,Trực tuyến\n" + "".join(
        f"UBND phường Tân Hà,{m:02d}/2023,100,{m}\n" for m in (6, 7, 8, 9)
    )
    run_import(province_staff, geo, csv_file(months), "thang.csv")
    with pytest.raises(ValidationError) as refused:
        run_import(province_staff, geo, csv_file("Đơn vị,Kỳ,Tổng số,Trực tuyến\nUBND phường Tân Hà,Q3/2023,300,30\n"))
    message = refused.value.errors["Dòng 2"][0]
    assert "Quý 3/2023" in message and "07/2023" in message and "thang.csv" in message
    db.session.rollback()
    assert [r.period_kind for r in current_stats()] == ["month"] * 4


def test_a_month_far_from_the_usual_is_imported_with_a_warning(geo, province_staff):
    usual = "Đơn vị,Tháng,Tổng số,Trực tuyến\n" + "".join(
        f"UBND xã Minh Khương,{m:02d}/2026,80,20\n" for m in (1, 2, 3)
    )
    run_import(province_staff, geo, csv_file(usual))
    result = run_import(
        province_staff, geo, csv_file("Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND xã Minh Khương,04/2026,170.531,500\n")
    )
    assert result.rows == 1
    assert any("170.531" in w and "80" in w and "04/2026" in w for w in result.warnings)


def test_the_same_file_twice_is_refused(geo, province_staff):
    text = "Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND phường Tân Hà,09/2023,100,40\n"
    run_import(province_staff, geo, csv_file(text))
    with pytest.raises(ValidationError, match="đã được nhập"):
        run_import(province_staff, geo, csv_file(text))


def test_overlapping_rows_of_one_agency_in_a_file_are_refused(geo, province_staff):
    text = "Đơn vị,Kỳ,Tổng số,Trực tuyến\nUBND phường Tân Hà,09/2023,100,40\nUBND Phường Tân Hà,Q3/2023,300,90\n"
    with pytest.raises(ValidationError) as refused:
        run_import(province_staff, geo, csv_file(text))
    assert "Dòng 3" in refused.value.errors


def test_agency_names_are_matched_and_ambiguous_or_unknown_names_wait_for_a_person(geo, province_staff):
    other_tanha = make_unit(Level.COMMUNE, "02290", "Xã Tân Hà", geo["hamyen"])
    db.session.commit()
    text = (
        "Đơn vị,Tháng,Tổng số,Trực tuyến\n"
        "UBND Tân Hà,09/2023,10,1\n"  # a phường in the city and a xã in Hàm Yên: ambiguous
        "UBND xã Tân Hà - huyện Hàm Yên,09/2023,20,2\n"  # the district tells them apart
        "UBND Xa Minh Khuong,09/2023,30,3\n"
        "Sở Tư pháp,09/2023,40,4\n"
        "UBND xã Không Có Thật,09/2023,50,5\n"
        "UBND huyện Hàm Yên,09/2023,60,6\n"
    )
    result = run_import(province_staff, geo, csv_file(text))
    agencies = {a.name: a for a in db.session.scalars(sa.select(Agency))}
    ambiguous = agencies["UBND Tân Hà"]
    assert ambiguous.status == AgencyStatus.UNRESOLVED and ambiguous.unit_id is None
    assert sorted(ambiguous.candidate_ids) == sorted([geo["tanha"].id, other_tanha.id])
    assert agencies["UBND xã Tân Hà - huyện Hàm Yên"].unit_id == other_tanha.id
    assert agencies["UBND Xa Minh Khuong"].unit_id == geo["minhkhuong"].id
    assert agencies["Sở Tư pháp"].status == AgencyStatus.NOT_A_UNIT
    unknown = agencies["UBND xã Không Có Thật"]
    assert unknown.status == AgencyStatus.UNRESOLVED and unknown.candidate_ids == []
    assert agencies["UBND huyện Hàm Yên"].unit_id == geo["hamyen"].id
    assert {a.name for a in result.unresolved} == {"UBND Tân Hà", "UBND xã Không Có Thật"}


def test_a_dossier_list_is_aggregated_by_agency_and_month(geo, province_staff):
    lines = ["Mã hồ sơ;Đơn vị tiếp nhận;Ngày tiếp nhận;Kênh tiếp nhận;Mức độ"]
    for day in range(1, 11):
        lines.append(f"H{day};UBND phường Tân Hà;{day:02d}/09/2023 08:30;Trực tuyến;Toàn trình")
    for day in range(1, 6):
        lines.append(f"T{day};UBND phường Tân Hà;{day:02d}/09/2023;Trực tiếp;")
    lines.append("B1;UBND phường Tân Hà;2023-10-02;Bưu chính;")
    lines.append("O1;UBND phường Tân Hà;2023-10-03T10:00:00;Dịch vụ công trực tuyến;Một phần")
    result = run_import(province_staff, geo, csv_file("\n".join(lines) + "\n"), "ho-so.csv")
    assert result.batch.kind == "dossiers"
    rows = current_stats()
    assert [(r.period_start, r.total, r.online, r.fully_online, r.partly_online) for r in rows] == [
        (date(2023, 9, 1), 15, 10, 10, 0),
        (date(2023, 10, 1), 2, 1, 0, 1),
    ]


def test_a_dossier_with_an_unknown_channel_or_date_refuses_the_file(geo, province_staff):
    text = (
        "Đơn vị;Ngày tiếp nhận;Kênh\n"
        "UBND phường Tân Hà;01/09/2023;Trực tuyến\n"
        "UBND phường Tân Hà;32/09/2023;Trực tuyến\n"
        "UBND phường Tân Hà;02/09/2023;Fax\n"
    )
    with pytest.raises(ValidationError) as refused:
        run_import(province_staff, geo, csv_file(text))
    assert set(refused.value.errors) == {"Dòng 3", "Dòng 4"}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SubmissionStat.id))) == 0


def test_only_province_staff_and_admins_import(geo, users):
    from outreach.reports.imports import import_province

    with pytest.raises(ValidationError):
        import_province(users["staff"], None)  # a district's staff
    assert import_province(users["admin"], geo["province"].id) == geo["province"]


def test_names_differing_only_by_diacritics_are_different_communes(geo, province_staff):
    tan_thanh = make_unit(Level.COMMUNE, "02401", "Xã Tân Thành", geo["hamyen"])
    tan_thanh_2 = make_unit(Level.COMMUNE, "02590", "Xã Tân Thanh", geo["hamyen"])
    db.session.commit()
    text = (
        "Đơn vị,Tháng,Tổng số,Trực tuyến\n"
        "UBND xã Tân Thành,09/2026,100,10\n"
        "UBND xã Tân Thanh,09/2026,200,20\n"
        "UBND XA TAN THANH,10/2026,300,30\n"  # written without diacritics: could be either
    )
    run_import(province_staff, geo, csv_file(text))
    agencies = {a.name: a for a in db.session.scalars(sa.select(Agency))}
    assert agencies["UBND xã Tân Thành"].unit_id == tan_thanh.id
    assert agencies["UBND xã Tân Thanh"].unit_id == tan_thanh_2.id
    unknown = agencies["UBND XA TAN THANH"]
    assert unknown.status == AgencyStatus.UNRESOLVED
    assert sorted(unknown.candidate_ids) == sorted([tan_thanh.id, tan_thanh_2.id])


def test_two_spellings_of_one_committee_never_count_twice(geo, province_staff):
    run_import(province_staff, geo, csv_file("Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND xã Minh Khương,09/2026,100,10\n"))
    result = run_import(
        province_staff,
        geo,
        csv_file("Agency,Month,Total,Online\nUy ban nhan dan xa Minh Khuong,2026-09,120,12\n"),
        "en.csv",
    )
    assert result.replaced == 1
    assert [(r.total, r.online) for r in current_stats()] == [(120, 12)]


def test_linking_an_agency_where_another_already_counts_is_refused(geo, province_staff):
    from outreach.reports.agencies import resolve_agency

    run_import(
        province_staff,
        geo,
        csv_file("Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND xã Minh Khương,09/2026,100,10\nUBND Nà Khà,09/2026,50,5\n"),
    )
    stray = db.session.scalar(sa.select(Agency).where(Agency.name == "UBND Nà Khà"))
    assert stray.status == AgencyStatus.UNRESOLVED
    with pytest.raises(ValidationError, match="Minh Khương"):
        resolve_agency(province_staff, stray, unit_id=geo["minhkhuong"].id, not_a_unit=False, now=NOW)
    db.session.rollback()
    resolve_agency(province_staff, stray, unit_id=geo["tanha"].id, not_a_unit=False, now=NOW)
    db.session.commit()
    assert db.session.get(Agency, stray.id).unit_id == geo["tanha"].id


def test_subtotal_rows_are_not_agencies(geo, province_staff):
    text = (
        "Đơn vị,Tháng,Tổng số,Trực tuyến\n"
        "UBND phường Tân Hà,09/2026,100,40\n"
        "UBND xã Minh Khương,09/2026,50,10\n"
        "Tổng cấp xã,09/2026,150,50\n"
        "Tổng số cấp xã,09/2026,150,50\n"
        "Cộng,09/2026,150,50\n"
    )
    result = run_import(province_staff, geo, csv_file(text))
    assert result.rows == 2 and len(result.warnings) == 3
    assert db.session.scalar(sa.select(sa.func.count(Agency.id))) == 2


def test_unknown_codes_are_separate_agencies(geo, province_staff):
    text = "Mã đơn vị,Tháng,Tổng số,Trực tuyến\nA1,09/2026,10,1\nA2,09/2026,20,2\n02383,09/2026,30,3\n"
    run_import(province_staff, geo, csv_file(text))
    agencies = {a.code: a for a in db.session.scalars(sa.select(Agency))}
    assert set(agencies) == {"A1", "A2", "02383"}
    assert agencies["A1"].status == agencies["A2"].status == AgencyStatus.UNRESOLVED
    assert agencies["02383"].unit_id == geo["minhkhuong"].id


def test_a_very_long_agency_name_imports_twice_without_error(geo, province_staff):
    name = "Trung tâm " + "rất dài " * 60
    run_import(province_staff, geo, csv_file(f"Đơn vị,Tháng,Tổng số,Trực tuyến\n{name},09/2026,10,1\n"), "a.csv")
    result = run_import(province_staff, geo, csv_file(f"Đơn vị,Tháng,Tổng số,Trực tuyến\n{name},09/2026,12,1\n"))
    assert result.replaced == 1


def test_bare_commune_names_that_look_like_departments_are_communes(geo, province_staff):
    text = "Đơn vị,Tháng,Tổng số,Trực tuyến\nĐội Cấn,09/2026,10,1\nĐội Quản lý thị trường số 1,09/2026,5,1\n"
    run_import(province_staff, geo, csv_file(text))
    agencies = {a.name: a for a in db.session.scalars(sa.select(Agency))}
    assert agencies["Đội Cấn"].unit_id == geo["doican"].id
    assert agencies["Đội Quản lý thị trường số 1"].status == AgencyStatus.NOT_A_UNIT


def test_dossiers_under_two_spellings_of_one_commune_are_one_month(geo, province_staff):
    text = (
        "Đơn vị;Ngày tiếp nhận;Kênh;Mức độ\n"
        "UBND phường Tân Hà;01/09/2026;Trực tuyến;Mức độ 4\n"
        "Tân Hà;02/09/2026;Không trực tuyến;\n"
        "Phường Tân Hà;03/09/2026;Trực tuyến;Mức độ 3\n"
    )
    run_import(province_staff, geo, csv_file(text))
    (row,) = current_stats()
    assert (row.total, row.online, row.fully_online, row.partly_online) == (3, 2, 1, 1)


def test_dossier_lists_without_a_level_column_leave_the_split_unknown(geo, province_staff):
    run_import(province_staff, geo, csv_file("Đơn vị;Ngày tiếp nhận;Kênh\nUBND phường Tân Hà;01/09/2026;Trực tuyến\n"))
    (row,) = current_stats()
    assert row.fully_online is None and row.partly_online is None


def test_an_impossible_date_is_said_in_vietnamese(geo, province_staff):
    text = "Đơn vị,Từ ngày,Đến ngày,Tổng số,Trực tuyến\nUBND phường Tân Hà,31/02/2024,31/03/2024,10,1\n"
    with pytest.raises(ValidationError) as refused:
        run_import(province_staff, geo, csv_file(text))
    assert "31/02/2024" in refused.value.errors["Dòng 2"][0] and "out of range" not in str(refused.value.errors)


def test_iso_date_ranges_are_periods():
    assert parse_period("2024-01-01 - 2024-03-31") == ("quarter", date(2024, 1, 1), date(2024, 3, 31))


def test_a_statistics_file_of_bad_rows_lists_the_first_problems_and_counts_the_rest(geo, province_staff):
    rows = "".join(f"UBND xã Số {i},09/2026,10,20\n" for i in range(120))  # online above the total, everywhere
    with pytest.raises(ValidationError) as refused:
        run_import(province_staff, geo, csv_file("Đơn vị,Tháng,Tổng số,Trực tuyến\n" + rows))
    errors = refused.value.errors
    assert sum(len(m) for where, m in errors.items() if where) == 50 and "Dòng 51" in errors
    assert errors[""] == ["…và 70 lỗi khác."]


def test_checking_a_statistics_file_stops_past_the_listed_problems(geo, province_staff, monkeypatch):
    from outreach.csvio import RowErrors

    monkeypatch.setattr(RowErrors, "CHECK_PAST", 20)
    summary = "Đơn vị,Tháng,Tổng số,Trực tuyến\n" + "".join(f"UBND xã Số {i},09/2026,nhiều,ít\n" for i in range(500))
    with pytest.raises(ValidationError) as refused:
        run_import(province_staff, geo, csv_file(summary))
    errors = refused.value.errors
    # Two problems a line: the list is full on line 26; lines 27 to 46 are still counted; 455 are left.
    assert sum(len(m) for where, m in errors.items() if where) == 50
    assert errors[""][0] == "…và 40 lỗi khác." and "46" in errors[""][1] and "455" in errors[""][1]

    dossiers = "Đơn vị;Ngày tiếp nhận;Kênh\n" + "UBND phường Tân Hà;32/09/2026;Trực tuyến\n" * 500
    with pytest.raises(ValidationError) as refused:
        run_import(province_staff, geo, csv_file(dossiers), "ho-so.csv")
    errors = refused.value.errors
    assert sum(len(m) for where, m in errors.items() if where) == 50
    assert errors[""][0] == "…và 20 lỗi khác." and "71" in errors[""][1] and "430" in errors[""][1]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(SubmissionStat.id))) == 0


def test_numbers_in_the_refusals_are_written_the_vietnamese_way(geo, province_staff, monkeypatch):
    from outreach.csvio import RowErrors

    summary = "Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND phường Tân Hà,09/2026,10.000,11.182\n"
    with pytest.raises(ValidationError) as refused:
        run_import(province_staff, geo, csv_file(summary))
    (said,) = refused.value.errors["Dòng 2"]
    assert "11.182" in said and "10.000" in said and "11182" not in said

    errors = RowErrors()
    for line in range(2, 11_184):
        errors.add(line, "sai")
    errors.stop(11_183, unchecked=12_000)
    with pytest.raises(ValidationError) as many:
        errors.raise_if_any()
    more, stopped = many.value.errors[""]
    assert more == "…và 11.132 lỗi khác." and "11.183" in stopped and "12.000" in stopped
