"""Statistics across the reform of 1/7/2025: files from before it name the former communes, files
after it today's; both land on today's communes, as one series each, never guessed silently."""

from datetime import date

import pytest
import sqlalchemy as sa

from outreach.auth.models import Role
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.models import FormerUnit, Succession
from outreach.reports import services
from outreach.reports.agencies import resolve_agency
from outreach.reports.imports import import_statistics, undo_import
from outreach.reports.models import Agency, AgencyKind, AgencyStatus, SubmissionStat
from tests.conftest import NOW, csrf_token, login, make_user
from tests.reports.conftest import csv_file

# Before the reform: the six communes that are today's Phường Minh Xuân, and names that the 2025
# structure also has (Tân Quang, Tân Tiến) or nearly has (Tân Thanh), which must not go there.
FILE_2024 = (
    "Đơn vị,Tháng,Tổng số hồ sơ,Hồ sơ trực tuyến\n"
    "UBND phường Minh Xuân,03/2024,100,40\n"
    "UBND phường Phan Thiết,03/2024,200,70\n"
    "UBND phường Tân Quang,03/2024,150,30\n"
    "UBND phường Ỷ La,03/2024,120,60\n"
    "UBND phường Tân Hà,03/2024,300,300\n"
    "UBND xã Trung Môn,03/2024,80,8\n"
    '"UBND xã Tân Tiến, huyện Yên Sơn",03/2024,50,5\n'
    '"Tân Thành, huyện Hàm Yên",03/2024,40,4\n'
    "UBND phường Minh Xuân,04/2024,110,50\n"
    "UBND phường Tân Hà,04/2024,310,305\n"
    "UBND huyện Yên Sơn,03/2024,500,100\n"
    "Sở Tư pháp,03/2024,20,10\n"
)
FILE_2026 = (
    "Đơn vị,Tháng,Tổng số hồ sơ,Hồ sơ trực tuyến\n"
    "UBND phường Minh Xuân,03/2026,1000,700\n"
    "UBND xã Tân Quang,03/2026,90,45\n"
    "UBND xã Tân Long,03/2026,70,35\n"
)


@pytest.fixture
def staff(tq2025):
    return make_user("staff.tq", Role.STAFF, tq2025.province)


def run(staff, tq2025, text, filename="bao-cao.csv"):
    result = import_statistics(staff, csv_file(text), filename, province=tq2025.province, now=NOW)
    db.session.commit()
    return result


def agencies() -> dict[str, Agency]:
    db.session.rollback()
    return {a.name if not a.before_reform else f"{a.name} (cũ)": a for a in db.session.scalars(sa.select(Agency))}


def test_a_2024_file_and_a_2026_file_give_one_series_per_2025_commune(staff, tq2025):
    """Done when: checked by hand for Phường Minh Xuân (old Minh Xuân, Phan Thiết, Tân Quang, Ỷ La,
    Tân Hà and xã Trung Môn)."""
    run(staff, tq2025, FILE_2024, "2024.csv")
    run(staff, tq2025, FILE_2026, "2026.csv")
    minh_xuan = tq2025["Phường Minh Xuân"]
    period = services.report_period(staff, minh_xuan, "2024-01", "2026-03")
    series = [(p.start, p.figures.online, p.figures.total) for p in services.trend(staff, minh_xuan, period)]
    assert series == [
        # 40 + 70 + 30 + 60 + 300 + 8 online of 100 + 200 + 150 + 120 + 300 + 80
        (date(2024, 3, 1), 508, 950),
        # only old Minh Xuân and Tân Hà reported April
        (date(2024, 4, 1), 355, 420),
        (date(2026, 3, 1), 700, 1000),
    ]
    # Names the 2025 structure also has went to the successors of the former communes, not to them.
    assert _months(staff, tq2025["Xã Tân Quang"]) == [(date(2026, 3, 1), 45, 90)]
    assert _months(staff, tq2025["Xã Tân Long"]) == [(date(2024, 3, 1), 5, 50), (date(2026, 3, 1), 35, 70)]
    assert _months(staff, tq2025["Xã Hàm Yên"]) == [(date(2024, 3, 1), 4, 40)]
    assert _months(staff, tq2025["Xã Tân Tiến"]) == []
    assert _months(staff, tq2025["Xã Tân Thanh"]) == []
    # The province's ranking of communes compares 2024 on today's communes.
    ranked = services.ranking(
        staff, tq2025.province, services.report_period(staff, tq2025.province, "2024-03", "2024-03")
    )
    assert {(r.unit.name, r.figures.total) for r in ranked} == {
        ("Phường Minh Xuân", 950),
        ("Xã Tân Long", 50),
        ("Xã Hàm Yên", 40),
    }
    # The province's total for 2024 has every row, the former district's committee included.
    total = services.online_rates(
        staff, tq2025.province, services.report_period(staff, tq2025.province, "2024-03", "2024-03")
    )
    assert total.total.total == 950 + 50 + 40 + 500 + 20


def _months(actor, unit):
    period = services.report_period(actor, unit, "2024-01", "2026-03")
    return [(p.start, p.figures.online, p.figures.total) for p in services.trend(actor, unit, period)]


def test_agencies_keep_the_names_the_files_used_and_know_the_former_commune(staff, tq2025):
    result = run(staff, tq2025, FILE_2024)
    found = agencies()
    old_minh_xuan = found["UBND phường Minh Xuân (cũ)"]
    assert old_minh_xuan.before_reform and old_minh_xuan.former_unit.code == "02203"
    assert old_minh_xuan.unit_id == tq2025["Phường Minh Xuân"].id
    tan_ha = found["UBND phường Tân Hà (cũ)"]
    assert (tan_ha.former_unit.name, tan_ha.unit.name) == ("Phường Tân Hà", "Phường Minh Xuân")
    assert found["UBND phường Tân Quang (cũ)"].former_unit.name == "Phường Tân Quang"
    tan_tien = found["UBND xã Tân Tiến, huyện Yên Sơn (cũ)"]
    assert (tan_tien.former_unit.district_name, tan_tien.unit.name) == ("Huyện Yên Sơn", "Xã Tân Long")
    tan_thanh = found["Tân Thành, huyện Hàm Yên (cũ)"]
    assert (tan_thanh.former_unit.name, tan_thanh.unit.name) == ("Xã Tân Thành", "Xã Hàm Yên")
    # A district's committee before the reform: no commune to link, its figures count in the province.
    district = found["UBND huyện Yên Sơn (cũ)"]
    assert (district.kind, district.status) == (AgencyKind.DISTRICT, AgencyStatus.NOT_A_UNIT)
    # A department is one agency across the reform (still there, counted in the province).
    assert not found["Sở Tư pháp"].before_reform and found["Sở Tư pháp"].status == AgencyStatus.NOT_A_UNIT
    assert result.unresolved == []
    assert {a.name for a in result.former} >= {"UBND phường Tân Hà", "UBND phường Minh Xuân"}
    # The same name in a 2026 file is today's ward: another agency.
    run(staff, tq2025, FILE_2026, "2026.csv")
    new_minh_xuan = agencies()["UBND phường Minh Xuân"]
    assert not new_minh_xuan.before_reform and new_minh_xuan.former_unit_id is None
    assert new_minh_xuan.id != old_minh_xuan.id


def test_pages_show_the_former_name_and_where_it_went(client, staff, tq2025):
    run(staff, tq2025, FILE_2024)
    login(client, "staff.tq")
    html = client.get("/reports/agencies").get_data(as_text=True)
    assert "UBND phường Tân Hà (cũ) → Phường Minh Xuân" in html
    tan_ha = agencies()["UBND phường Tân Hà (cũ)"]
    page = client.get(f"/reports/agencies/{tan_ha.id}").get_data(as_text=True)
    assert "UBND phường Tân Hà (cũ) → Phường Minh Xuân" in page
    assert "Thành phố Tuyên Quang" in page  # the former commune's district


def test_names_before_the_reform_that_fit_several_former_communes_wait_for_a_person(staff, tq2025):
    text = "Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND xã Tân Thành,03/2024,40,4\n"  # Hàm Yên and Bắc Quang
    result = run(staff, tq2025, text)
    (agency,) = result.unresolved
    candidates = db.session.scalars(sa.select(FormerUnit).where(FormerUnit.id.in_(agency.candidate_ids))).all()
    assert {(f.name, f.district_name) for f in candidates} == {
        ("Xã Tân Thành", "Huyện Hàm Yên"),
        ("Xã Tân Thành", "Huyện Bắc Quang"),
    }
    ham_yen = next(f for f in candidates if f.district_name == "Huyện Hàm Yên")
    resolve_agency(staff, agency, unit_id=None, former_id=ham_yen.id, not_a_unit=False, now=NOW)
    db.session.commit()
    agency = db.session.get(Agency, agency.id)
    assert (agency.status, agency.former_unit_id, agency.unit.name) == (AgencyStatus.LINKED, ham_yen.id, "Xã Hàm Yên")


def test_linking_a_second_former_commune_to_a_merged_commune_is_not_double_counting(staff, tq2025):
    text = (
        "Đơn vị,Tháng,Tổng số,Trực tuyến\n"
        "UBND phường Phan Thiết,03/2024,200,70\n"
        "Bộ phận một cửa Tân Hà,03/2024,300,300\n"  # not a name the matcher can read
    )
    result = run(staff, tq2025, text)
    (stray,) = result.unresolved
    tan_ha = db.session.scalar(sa.select(FormerUnit).where(FormerUnit.code == "02216"))
    resolve_agency(staff, stray, unit_id=None, former_id=tan_ha.id, not_a_unit=False, now=NOW)
    db.session.commit()
    minh_xuan = tq2025["Phường Minh Xuân"]
    assert _months(staff, minh_xuan) == [(date(2024, 3, 1), 370, 500)]
    # A second agency for the same former commune and months would count it twice: refused.
    run(staff, tq2025, "Đơn vị,Tháng,Tổng số,Trực tuyến\nMột cửa P. Tân Hà,03/2024,300,300\n", "b.csv")
    twin = agencies()["Một cửa P. Tân Hà (cũ)"]
    with pytest.raises(ValidationError, match="Tân Hà"):
        resolve_agency(staff, twin, unit_id=None, former_id=tan_ha.id, not_a_unit=False, now=NOW)
    db.session.rollback()


def test_reimporting_a_month_replaces_only_the_same_former_commune(staff, tq2025):
    run(staff, tq2025, FILE_2024, "a.csv")
    result = run(staff, tq2025, "Đơn vị,Tháng,Tổng số,Trực tuyến\nPhường Tân Hà,03/2024,310,301\n", "b.csv")
    assert result.replaced == 1
    assert _months(staff, tq2025["Phường Minh Xuân"])[0] == (date(2024, 3, 1), 508 - 300 + 301, 950 - 300 + 310)
    undo_import(staff, result.batch, now=NOW)
    db.session.commit()
    assert _months(staff, tq2025["Phường Minh Xuân"])[0] == (date(2024, 3, 1), 508, 950)


def test_a_dossier_list_before_the_reform_keeps_merged_communes_apart(staff, tq2025):
    text = (
        "Đơn vị;Ngày tiếp nhận;Kênh\n"
        "UBND phường Tân Hà;02/03/2024;Trực tuyến\n"
        "UBND phường Phan Thiết;03/03/2024;Trực tiếp\n"
        "Phường Tân Hà;04/03/2024;Trực tiếp\n"
        "UBND phường Minh Xuân;02/03/2026;Trực tuyến\n"
    )
    run(staff, tq2025, text, "ho-so.csv")
    rows = db.session.scalars(sa.select(SubmissionStat).order_by(SubmissionStat.period_start, SubmissionStat.total))
    assert sorted((r.agency.former_unit.name if r.agency.former_unit else "", r.total) for r in rows) == [
        ("", 1),  # today's Minh Xuân, 2026
        ("Phường Phan Thiết", 1),
        ("Phường Tân Hà", 2),  # two spellings of one former committee: one month
    ]
    assert _months(staff, tq2025["Phường Minh Xuân"]) == [(date(2024, 3, 1), 1, 3), (date(2026, 3, 1), 1, 1)]


def test_a_split_commune_counts_in_its_main_successor_and_says_so(client, staff, tq2025):
    result = run(staff, tq2025, "Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND xã Kim Phú,03/2024,60,6\n")
    (kim_phu,) = result.former
    assert kim_phu.unit.name == "Phường Mỹ Lâm"  # the package's default successor
    assert [u.name for u in kim_phu.former_unit.successors] == ["Phường Mỹ Lâm", "Phường Minh Xuân"]
    login(client, "staff.tq")
    page = client.get(f"/reports/agencies/{kim_phu.id}").get_data(as_text=True)
    assert "Phường Minh Xuân" in page and "main successor" not in page  # said in Vietnamese
    assert "chia" in page  # "được chia cho": the split is said
    # The person chooses the other successor: the figures follow.
    resolve_agency(
        staff,
        kim_phu,
        unit_id=tq2025["Phường Minh Xuân"].id,
        former_id=kim_phu.former_unit_id,
        not_a_unit=False,
        now=NOW,
    )
    db.session.commit()
    assert _months(staff, tq2025["Phường Minh Xuân"]) == [(date(2024, 3, 1), 6, 60)]
    assert _months(staff, tq2025["Phường Mỹ Lâm"]) == []
    with pytest.raises(ValidationError):
        resolve_agency(
            staff,
            kim_phu,
            unit_id=tq2025["Xã Tân Long"].id,
            former_id=kim_phu.former_unit_id,
            not_a_unit=False,
            now=NOW,
        )
    db.session.rollback()


def test_a_period_across_the_reform_is_refused_in_a_2025_province(staff, tq2025):
    text = "Đơn vị,Kỳ,Tổng số,Trực tuyến\nUBND phường Minh Xuân,Năm 2025,100,10\nUBND phường Minh Xuân,Q3/2025,10,1\n"
    with pytest.raises(ValidationError) as refused:
        run(staff, tq2025, text)
    assert list(refused.value.errors) == ["Dòng 2"]
    assert "1/7/2025" in refused.value.errors["Dòng 2"][0]
    db.session.rollback()


def test_after_the_reform_old_names_are_offered_their_successors_never_linked_silently(staff, tq2025):
    text = (
        "Đơn vị,Tháng,Tổng số,Trực tuyến\n"
        "UBND phường Tân Hà,03/2026,10,1\n"  # no commune is called Tân Hà today
        "UBND phường Tân Quang,03/2026,10,1\n"  # today's Tân Quang is a xã; the phường is in Minh Xuân
        '"UBND xã Tân Tiến, huyện Yên Sơn",03/2026,10,1\n'  # today's Tân Tiến is the Hoàng Su Phì one
        '"Tân Thành, huyện Hàm Yên",03/2026,10,1\n'  # today's Tân Thanh is another commune
    )
    result = run(staff, tq2025, text)
    assert {a.name for a in result.unresolved} == {
        "UBND phường Tân Hà",
        "UBND phường Tân Quang",
        "UBND xã Tân Tiến, huyện Yên Sơn",
        "Tân Thành, huyện Hàm Yên",
    }
    found = agencies()

    def offered(name):
        return {
            u.name
            for u in db.session.scalars(
                sa.select(services.AdminUnit).where(services.AdminUnit.id.in_(found[name].candidate_ids))
            )
        }

    assert offered("UBND phường Tân Hà") == {"Phường Minh Xuân"}
    assert offered("UBND phường Tân Quang") == {"Xã Tân Quang", "Phường Minh Xuân"}
    assert offered("UBND xã Tân Tiến, huyện Yên Sơn") == {"Xã Tân Tiến", "Xã Tân Long"}
    assert offered("Tân Thành, huyện Hàm Yên") == {"Xã Tân Thanh", "Xã Hàm Yên"}


def test_the_crosswalk_is_loaded_from_the_package_when_a_province_has_none(staff, tq2025):
    db.session.execute(sa.delete(Succession))
    db.session.execute(sa.delete(FormerUnit))
    db.session.commit()
    run(staff, tq2025, "Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND phường Tân Hà,03/2024,300,300\n")
    assert agencies()["UBND phường Tân Hà (cũ)"].unit.name == "Phường Minh Xuân"


def test_an_impact_window_across_the_reform_compares_today_s_communes_and_says_so(client, staff, tq2025):
    from outreach.planning.models import Campaign

    run(staff, tq2025, FILE_2024, "2024.csv")
    run(staff, tq2025, FILE_2026, "2026.csv")
    minh_xuan = tq2025["Phường Minh Xuân"]
    db.session.add(
        Campaign(commune_id=minh_xuan.id, name="Xuân", starts_on=date(2026, 1, 5), ends_on=date(2026, 3, 31))
    )
    db.session.commit()
    period = services.report_period(staff, tq2025.province, "2024-01", "2026-03")
    report = services.impact(staff, tq2025.province, period)
    assert report.crosses_reform
    row = next(r for r in report.rows if r.unit.id == minh_xuan.id)
    # "Before" is the six former communes added up on today's ward; "after" the ward itself.
    assert (row.before.online, row.before.total, row.after.online, row.after.total) == (863, 1370, 700, 1000)
    login(client, "staff.tq")
    html = client.get(f"/reports/units/{tq2025.province.id}/impact?from=2024-01&to=2026-03").get_data(as_text=True)
    assert "1/7/2025" in html
    after_only = services.impact(
        staff, tq2025.province, services.report_period(staff, tq2025.province, "2025-08", "2026-03")
    )
    assert not after_only.crosses_reform


def test_the_trend_chart_marks_the_reform(client, staff, tq2025):
    run(staff, tq2025, FILE_2024, "2024.csv")
    run(staff, tq2025, FILE_2026, "2026.csv")
    login(client, "staff.tq")
    minh_xuan = tq2025["Phường Minh Xuân"]
    html = client.get(f"/reports/units/{minh_xuan.id}?from=2024-01&to=2026-03").get_data(as_text=True)
    chart = html.split('<figure class="chart">')[1].split("</figure>")[0]
    assert 'class="marker"' in chart and "1/7/2025" in chart
    later = client.get(f"/reports/units/{minh_xuan.id}?from=2026-01&to=2026-03").get_data(as_text=True)
    assert 'class="marker"' not in later


def test_a_former_commune_is_chosen_on_the_agencies_page(client, staff, tq2025):
    run(staff, tq2025, "Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND xã Tân Thành,03/2024,40,4\n")
    agency = agencies()["UBND xã Tân Thành (cũ)"]
    login(client, "staff.tq")
    html = client.get("/reports/agencies?status=unresolved").get_data(as_text=True)
    assert "Xã Tân Thành, Huyện Hàm Yên (02401) → Xã Hàm Yên" in html
    assert "Xã Tân Thành, Huyện Bắc Quang" in html
    ham_yen = db.session.scalar(sa.select(FormerUnit).where(FormerUnit.code == "02401"))
    response = client.post(
        f"/reports/agencies/{agency.id}",
        data={"former_id": ham_yen.id, "csrf_token": csrf_token(client, "/reports/agencies")},
    )
    assert response.status_code == 302
    assert agencies()["UBND xã Tân Thành (cũ)"].unit.name == "Xã Hàm Yên"
    # Typed by its code in "or another unit", a former commune is found too.
    run(staff, tq2025, "Đơn vị,Tháng,Tổng số,Trực tuyến\nMột cửa Tân Hà,03/2024,10,1\n", "b.csv")
    stray = agencies()["Một cửa Tân Hà (cũ)"]
    client.post(
        f"/reports/agencies/{stray.id}",
        data={"unit": "02216", "csrf_token": csrf_token(client, "/reports/agencies")},
    )
    linked = agencies()["Một cửa Tân Hà (cũ)"]
    assert (linked.former_unit.name, linked.unit.name) == ("Phường Tân Hà", "Phường Minh Xuân")


def test_diacritics_matter_when_written_but_not_where_the_tone_mark_sits(geo, province_staff):
    from outreach.geo.models import Level
    from tests.conftest import make_unit

    hoa_an = make_unit(Level.COMMUNE, "02999", "Xã Hòa An", geo["hamyen"])
    db.session.commit()
    text = "Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND xã Hoà An,09/2026,10,1\nUBND xã Hoa Ấn,09/2026,10,1\n"
    import_statistics(province_staff, csv_file(text), "t.csv", province=geo["province"], now=NOW)
    db.session.commit()
    found = agencies()
    assert found["UBND xã Hoà An"].unit_id == hoa_an.id  # the old placement of the same tone
    other = found["UBND xã Hoa Ấn"]  # another name: offered, never linked
    assert other.status == AgencyStatus.UNRESOLVED and other.candidate_ids == [hoa_an.id]


def test_the_command_line_import_says_where_former_communes_count(tq2025, runner, tmp_path):
    path = tmp_path / "2024.csv"
    path.write_text("Đơn vị,Tháng,Tổng số,Trực tuyến\nUBND phường Tân Hà,03/2024,10,1\nUBND xã Kim Phú,03/2024,5,1\n")
    result = runner.invoke(args=["stats", "import", str(path), "--province", "2025:08"])
    assert result.exit_code == 0, result.output
    assert "UBND phường Tân Hà (cũ) → Phường Minh Xuân" in result.output
    assert "UBND xã Kim Phú (cũ) → Phường Mỹ Lâm" in result.output and "Phường Minh Xuân, " not in result.output
    assert "được chia cho Phường Mỹ Lâm, Phường Minh Xuân" in result.output
