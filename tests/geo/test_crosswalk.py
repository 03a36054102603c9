"""The crosswalk from the communes before 1/7/2025 to today's: loading it, searching former names,
and households and villages imported with old commune codes or names."""

import pytest
import sqlalchemy as sa

from outreach.auth.models import Role
from outreach.errors import ValidationError
from outreach.extensions import db
from outreach.geo.crosswalk import import_crosswalk
from outreach.geo.imports import import_households, import_villages
from outreach.geo.models import AdminUnit, FormerUnit, Household, Level
from outreach.geo.services import former_names, search_units
from tests.conftest import NOW, login, make_unit, make_user
from tests.reports.conftest import csv_file


def test_tuyen_quang_s_former_communes_and_where_they_went(tq2025):
    formers = db.session.scalars(sa.select(FormerUnit)).all()
    assert len(formers) == 330  # 137 of Tuyên Quang and 193 of Hà Giang
    minh_xuan = tq2025["Phường Minh Xuân"]
    merged = {f.name for f in formers if any(s.unit_id == minh_xuan.id and s.is_main for s in f.successions)}
    assert merged == {
        "Phường Minh Xuân",
        "Phường Phan Thiết",
        "Phường Tân Quang",
        "Phường Ỷ La",
        "Phường Tân Hà",
        "Xã Trung Môn",
    }
    tan_ha = next(f for f in formers if f.code == "02216")
    assert (tan_ha.district_name, tan_ha.main_successor.name, tan_ha.was_split) == (
        "Thành phố Tuyên Quang",
        "Phường Minh Xuân",
        False,
    )
    assert tan_ha.bounds is not None  # the former commune's box, which 2025 units do not have
    kim_phu = next(f for f in formers if f.name == "Xã Kim Phú")
    assert kim_phu.was_split and [u.name for u in kim_phu.successors] == ["Phường Mỹ Lâm", "Phường Minh Xuân"]


def test_rerunning_the_crosswalk_changes_nothing(tq2025):
    ids = set(db.session.scalars(sa.select(FormerUnit.id)))
    stats = import_crosswalk("Tuyen Quang")
    db.session.commit()
    assert (stats.created, stats.updated, stats.unchanged, stats.split) == (0, 0, 330, 5)
    assert set(db.session.scalars(sa.select(FormerUnit.id))) == ids


def test_the_crosswalk_needs_the_2025_province(app, runner):
    with pytest.raises(ValidationError):
        import_crosswalk("Tuyên Quang")
    result = runner.invoke(args=["geo", "import-crosswalk", "--province", "Tuyên Quang"])
    assert result.exit_code == 2 and "import-units" in result.output


def test_importing_2025_units_from_the_command_line_loads_the_crosswalk(app, runner):
    result = runner.invoke(args=["geo", "import-units", "--province", "Tuyên Quang", "--dataset", "2025"])
    assert result.exit_code == 0, result.output
    assert "330" in result.output
    assert db.session.scalar(sa.select(sa.func.count(FormerUnit.id))) == 330
    again = runner.invoke(args=["geo", "import-crosswalk", "--province", "tuyen quang"])
    assert again.exit_code == 0 and "330" in again.output  # unchanged


def test_search_finds_today_s_commune_by_a_former_name(client, tq2025):
    staff = make_user("staff.tq", Role.STAFF, tq2025.province)
    found = search_units(staff, "Tân Hà")
    minh_xuan = tq2025["Phường Minh Xuân"]
    assert minh_xuan in found
    assert former_names(found, "Tân Hà") == {minh_xuan.id: ["Phường Tân Hà"]}
    login(client, "staff.tq")
    html = client.get("/units?q=tan+ha").get_data(as_text=True)
    assert "Phường Minh Xuân" in html and "Phường Tân Hà" in html
    body = client.get("/api/v1/units?q=tan%20ha").get_json()
    hit = next(u for u in body["units"] if u["id"] == minh_xuan.id)
    assert hit["formerly"] == ["Phường Tân Hà"]
    # Direct matches first, with no "formerly"; then communes that took in one of that name.
    units = client.get("/api/v1/units?q=minh%20xuan").get_json()["units"]
    assert [(u["name"], u.get("formerly")) for u in units] == [
        ("Phường Minh Xuân", None),
        ("Xã Thông Nguyên", ["Xã Xuân Minh"]),  # words in any order, as for names of today
    ]


def test_search_by_a_former_name_stays_in_scope(tq2025):
    leader = make_user("leader.tanlong", Role.LEADER, tq2025["Xã Tân Long"])
    assert search_units(leader, "Tân Hà") == []
    assert search_units(leader, "Tân Tiến") == [tq2025["Xã Tân Long"]]  # old Tân Tiến (Yên Sơn) is part of it


VILLAGES = (
    "mã xã,tên thôn,loại\n"
    "02216,Tổ dân phố 1,Tổ dân phố\n"  # old Tân Hà's code
    "Phường Phan Thiết,Tổ dân phố 2,Tổ dân phố\n"  # an old name
    "02215,Tổ dân phố 3,Tổ dân phố\n"  # today's Minh Xuân (old Ỷ La had this code: the same ward now)
    "Xã Kim Phú,Thôn Kim Phú,Thôn\n"  # split: its main successor, and said so
)


def test_villages_with_old_codes_or_names_land_in_today_s_commune_with_a_report(tq2025):
    result = import_villages(None, csv_file(VILLAGES), "thon.csv", now=NOW)
    db.session.commit()
    minh_xuan, my_lam = tq2025["Phường Minh Xuân"], tq2025["Phường Mỹ Lâm"]
    villages = db.session.execute(
        sa.select(AdminUnit.name, AdminUnit.parent_id).where(AdminUnit.level == Level.VILLAGE).order_by(AdminUnit.name)
    ).all()
    assert villages == [
        ("Thôn Kim Phú", my_lam.id),
        ("Tổ dân phố 1", minh_xuan.id),
        ("Tổ dân phố 2", minh_xuan.id),
        ("Tổ dân phố 3", minh_xuan.id),
    ]
    mapped = {m.written: m for m in result.mapped}
    assert set(mapped) == {"02216", "Phường Phan Thiết", "Xã Kim Phú"}
    assert (mapped["02216"].former.name, mapped["02216"].unit.name, mapped["02216"].rows) == (
        "Phường Tân Hà",
        "Phường Minh Xuân",
        1,
    )
    assert mapped["Xã Kim Phú"].split and mapped["Xã Kim Phú"].unit == my_lam


def test_households_with_an_old_commune_code_land_in_today_s_commune(client, tq2025):
    import_villages(None, csv_file("mã xã,tên thôn\n02215,Tổ dân phố 7\n"), "thon.csv", now=NOW)
    db.session.commit()
    leader = make_user("leader.mx", Role.LEADER, tq2025["Phường Minh Xuân"])
    text = "mã xã;thôn;họ tên chủ hộ\n02216;Tổ dân phố 7;Nguyễn Văn An\n02203;Tổ dân phố 7;Trần Thị Bình\n"
    result = import_households(leader, csv_file(text), "ho.csv", now=NOW)
    db.session.commit()
    assert result.created == 2
    assert {m.written: m.rows for m in result.mapped} == {"02216": 1, "02203": 1}
    villages = {h.village.parent_id for h in db.session.scalars(sa.select(Household))}
    assert villages == {tq2025["Phường Minh Xuân"].id}
    login(client, "leader.mx")
    page = client.post(
        "/imports",
        data={
            "kind": "households",
            "file": (csv_file("mã xã;thôn;họ tên chủ hộ\n02216;Tổ dân phố 7;Lê Văn Cường\n"), "ho2.csv"),
            "csrf_token": _token(client),
        },
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "02216" in page and "Phường Tân Hà" in page and "Phường Minh Xuân" in page


def _token(client):
    from tests.conftest import csrf_token

    return csrf_token(client, "/imports")


def test_an_old_code_that_is_another_commune_s_code_today_needs_the_dataset(tq2025):
    # Made up: a 2025 commune whose code is old Tân Hà's (none is, in the real data).
    make_unit(Level.COMMUNE, "02216", "Xã Mượn Mã", tq2025.province, dataset="2025")
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        import_villages(None, csv_file("mã xã,tên thôn\n02216,Thôn A\n"), "a.csv", now=NOW)
    assert "Phường Tân Hà" in str(refused.value.errors) and "Xã Mượn Mã" in str(refused.value.errors)
    db.session.rollback()
    result = import_villages(None, csv_file("mã xã,bộ dữ liệu,tên thôn\n02216,legacy,Thôn A\n"), "a.csv", now=NOW)
    db.session.commit()
    assert [m.unit.name for m in result.mapped] == ["Phường Minh Xuân"]


def test_the_command_line_says_where_old_communes_went(tq2025, runner, tmp_path):
    path = tmp_path / "thon.csv"
    path.write_text("mã xã,tên thôn\n02216,Tổ dân phố 1\nXã Kim Phú,Thôn Kim Phú\n", encoding="utf-8")
    result = runner.invoke(args=["geo", "import-villages", str(path)])
    assert result.exit_code == 0, result.output
    assert "“02216” (Phường Tân Hà, Thành phố Tuyên Quang, cũ) → Phường Minh Xuân: 1 dòng" in result.output
    assert "Phường Mỹ Lâm, Phường Minh Xuân" in result.output  # Kim Phú was split, and it is said


def test_an_old_name_shared_by_two_former_communes_needs_the_district(tq2025):
    with pytest.raises(ValidationError) as refused:
        import_villages(None, csv_file("mã xã,tên thôn\nXã Tân Thành,Thôn 1\n"), "a.csv", now=NOW)
    assert "huyện" in str(refused.value.errors)  # Hàm Yên's and Bắc Quang's: write the district
    db.session.rollback()
    result = import_villages(None, csv_file('mã xã,tên thôn\n"Xã Tân Thành, huyện Hàm Yên",Thôn 1\n'), "a.csv", now=NOW)
    db.session.commit()
    assert [(m.former.code, m.unit.name) for m in result.mapped] == [("02401", "Xã Hàm Yên")]
